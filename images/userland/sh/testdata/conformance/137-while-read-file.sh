printf 'one\ntwo\nthree\n' > lines
n=0
while read l; do n=$((n+1)); echo "$n:$l"; done < lines
echo total $n
