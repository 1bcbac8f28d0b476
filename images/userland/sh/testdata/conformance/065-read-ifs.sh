IFS=: read x y z <<END
1:2:3
END
echo "$x $y $z"
