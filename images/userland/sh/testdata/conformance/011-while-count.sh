i=0
while [ $i -lt 5 ]; do i=$((i+1)); echo $i; done
