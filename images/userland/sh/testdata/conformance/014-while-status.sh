while false; do :; done
echo $?
