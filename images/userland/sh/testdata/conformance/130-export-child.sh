export EX=exported
NE=not
sh -c 'echo "[$EX][$NE]"'
V=inline sh -c 'echo "[$V]"'
echo "[$V]"
