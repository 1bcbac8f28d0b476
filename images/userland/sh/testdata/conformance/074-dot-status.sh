echo 'false' > f.sh
. ./f.sh
echo "status $?"
