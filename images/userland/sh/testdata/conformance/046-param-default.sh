unset u
e=
echo "${u-dflt}" "${u:-dflt}" "[${e-dflt}]" "${e:-dflt}"
