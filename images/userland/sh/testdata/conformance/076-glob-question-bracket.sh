touch f1 f2 f3 fa
echo f?
echo f[12]
echo f[!1]
