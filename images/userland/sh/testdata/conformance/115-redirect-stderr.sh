cat nonexistent 2> err.txt
echo "status $?"
[ -s err.txt ] && echo "error captured"
