echo gone > /dev/null
cat missing 2>/dev/null
echo "status $?"
