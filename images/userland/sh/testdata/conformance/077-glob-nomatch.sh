echo *.none
echo "quoted *.txt"
for f in *.nomatch; do echo "[$f]"; done
