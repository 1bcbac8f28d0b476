a=$$
b=$(echo $$)
[ "$a" = "$b" ] && echo same-pid
[ -n "$a" ] && echo has-pid
