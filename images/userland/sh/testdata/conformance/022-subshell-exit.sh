(exit 3)
echo "status $?"
(echo in; exit 0)
echo "status $?"
