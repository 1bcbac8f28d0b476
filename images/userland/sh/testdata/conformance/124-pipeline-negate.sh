! echo hi | grep -q bye
echo $?
