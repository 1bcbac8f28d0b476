set -- one two three four five six seven eight nine ten eleven
echo $1 $9 ${10} ${11} $#
