x=outer
echo x | read x
echo $x
