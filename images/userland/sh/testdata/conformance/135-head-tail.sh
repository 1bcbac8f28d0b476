printf '1\n2\n3\n4\n5\n' > n
head -n 2 n
tail -n 2 n
