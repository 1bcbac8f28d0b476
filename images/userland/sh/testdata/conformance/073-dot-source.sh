echo 'sourced_var=42; sf() { echo "from sourced"; }' > lib.sh
. ./lib.sh
echo $sourced_var
sf
