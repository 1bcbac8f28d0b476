eval false
echo $?
eval 'exit 2'
