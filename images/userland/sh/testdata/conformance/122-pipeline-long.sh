printf '1\n2\n3\n4\n5\n' | grep -v 3 | tail -n 2 | cat
