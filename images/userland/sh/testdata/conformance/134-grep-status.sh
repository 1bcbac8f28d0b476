printf 'apple\nbanana\n' > fruit
grep an fruit
grep -c a fruit
grep zzz fruit
echo "status $?"
