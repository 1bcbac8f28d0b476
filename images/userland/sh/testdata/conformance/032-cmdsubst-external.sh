printf 'l1\nl2\nl3\n' > f
n=$(wc -l < f)
echo "lines $n"
echo "first $(head -n 1 f)"
