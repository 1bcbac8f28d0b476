[ abc = abc ] && echo eq
[ abc != abd ] && echo ne
[ -z "" ] && echo empty
[ -n x ] && echo nonempty
test a = b || echo differ
