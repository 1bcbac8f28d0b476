echo 'a\tb'
echo -n no-newline; echo
echo 'stop\cignored'
