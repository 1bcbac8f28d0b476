[ 1 = 2 ]
echo $?
test -n ""
echo $?
[ ]
echo $?
