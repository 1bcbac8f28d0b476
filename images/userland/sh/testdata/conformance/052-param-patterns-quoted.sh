x='a*b*c'
echo "${x#*\*}" "${x%\**}"
y=aaa
echo ${y#a} ${y##a} ${y%a}
