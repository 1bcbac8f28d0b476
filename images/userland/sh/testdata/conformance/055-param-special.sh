set -- a b
echo "$#" "$*"
f() { echo "$#"; }
f "$@"
f "$*"
f $*
