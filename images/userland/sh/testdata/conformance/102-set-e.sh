set -e
echo start
false || true
if false; then :; fi
false && true
echo still
false
echo not reached
