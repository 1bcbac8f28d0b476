x=global
x=local sh -c 'echo "child $x"'
echo "shell $x"
