HOME=/home/someone
echo ~ ~/x
echo "~" '~'
x=~/y
echo $x
