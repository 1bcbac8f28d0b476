read x
echo "read [$x] status $?"
