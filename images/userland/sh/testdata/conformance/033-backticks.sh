x=`echo back`
echo "$x `echo tick`"
