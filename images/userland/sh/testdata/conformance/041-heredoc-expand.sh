name=world
cat <<END
hello $name
sum $((2+3))
cmd $(echo sub)
END
