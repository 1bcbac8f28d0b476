trap 'echo cleanup' 0
echo main
exit 3
