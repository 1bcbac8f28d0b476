echo x > nodir/file
echo "status $?"
