read -r line <<'END'
back\slash
END
echo "$line"
read line <<'END'
back\slash
END
echo "$line"
