touch file
mkdir -p dir
[ -e file ] && echo exists
[ -f file ] && echo regular
[ -d dir ] && echo directory
[ -f dir ] || echo not-regular
[ -e nothing ] || echo missing
[ -s file ] || echo empty-file
echo x > full
[ -s full ] && echo non-empty
