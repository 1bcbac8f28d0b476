mkdir g
touch g/1.txt g/2.txt g/keep
rm g/*.txt
ls g
