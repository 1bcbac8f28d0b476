cat < nofile
echo "status $?"
