v='x  y'
echo "$v" "\$v" "a\"b" "\`tick"
