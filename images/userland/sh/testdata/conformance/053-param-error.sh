unset u
(: ${u?is unset})
echo "status $?"
