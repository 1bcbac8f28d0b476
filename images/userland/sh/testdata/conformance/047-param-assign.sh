unset u
echo "${u=assigned}" "$u"
e=
echo "${e:=filled}" "$e"
