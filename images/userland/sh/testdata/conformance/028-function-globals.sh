f() { v=set-in-f; }
f
echo $v
