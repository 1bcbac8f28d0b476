v='one two'
set -- $v
echo $#
set -- "$v"
echo $#
