nosuchcommand_xyz
echo "status $?"
