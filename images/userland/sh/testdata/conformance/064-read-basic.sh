read a b <<END
first second third
END
echo "a=$a b=$b"
