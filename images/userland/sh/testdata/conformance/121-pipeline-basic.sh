echo hello | cat | cat
printf 'b\na\nc\n' | head -n 2
