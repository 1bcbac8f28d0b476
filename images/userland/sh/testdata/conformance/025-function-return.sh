f() { return 3; }
f
echo "status $?"
g() { echo inside; return; }
g
echo "status $?"
