x=$(false)
echo "status $?"
x=$(exit 7)
echo "status $?"
