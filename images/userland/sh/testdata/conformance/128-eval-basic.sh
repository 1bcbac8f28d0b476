cmd='echo evaluated'
eval $cmd
eval "x=5; echo \$x"
eval 'y=$((x*2))'
echo $y
