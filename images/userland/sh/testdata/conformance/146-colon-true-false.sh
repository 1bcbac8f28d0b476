:
echo $?
true
echo $?
false
echo $?
