{ echo a; echo b; } | cat
{ echo c; false; }
echo "status $?"
