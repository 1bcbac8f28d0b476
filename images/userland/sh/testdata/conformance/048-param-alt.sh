s=set
unset u
echo "[${s+alt}]" "[${u+alt}]" "[${s:+alt}]"
