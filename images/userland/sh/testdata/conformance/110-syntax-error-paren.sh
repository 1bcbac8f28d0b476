echo before
echo )
