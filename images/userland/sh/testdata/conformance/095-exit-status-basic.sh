true; echo $?
false; echo $?
! true; echo $?
