s=hello
echo ${#s}
e=
echo ${#e}
