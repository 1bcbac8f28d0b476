show() { echo "$#: $*"; shift; echo "now $#: $*"; }
show a b c
echo "outer $#"
