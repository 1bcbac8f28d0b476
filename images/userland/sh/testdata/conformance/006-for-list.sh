for i in a b c; do echo "item $i"; done
