set -- -a -b val rest
while getopts ab: o; do
  case $o in
    a) echo "flag a";;
    b) echo "b=$OPTARG";;
  esac
done
shift $((OPTIND-1))
echo "rest $*"
