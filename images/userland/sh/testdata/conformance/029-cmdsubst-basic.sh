x=$(echo hello)
echo "got $x"
echo "nested $(echo "a $(echo b)")"
