printf 'x\n' > one
printf 'y\n' > two
cat one two
cat one missing two
echo "status $?"
