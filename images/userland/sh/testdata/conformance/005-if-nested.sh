for a in 1 2; do
  for b in 1 2; do
    if [ $a = $b ]; then echo "$a=$b"; else echo "$a!=$b"; fi
  done
done
