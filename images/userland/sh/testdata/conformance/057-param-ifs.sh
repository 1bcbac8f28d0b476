IFS=:
v=a:b::c
for x in $v; do echo "[$x]"; done
set -- x y z
echo "$*"
