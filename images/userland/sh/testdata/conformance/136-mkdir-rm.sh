mkdir -p x/y/z
[ -d x/y/z ] && echo made
rm -r x
[ -d x ] || echo removed
