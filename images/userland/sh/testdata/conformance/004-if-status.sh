if false; then :; fi
echo "status $?"
if ! false; then echo negated; fi
