i=0
: $((i += 5))
: $((i *= 2))
echo $i
echo $((i+=1)) $i
