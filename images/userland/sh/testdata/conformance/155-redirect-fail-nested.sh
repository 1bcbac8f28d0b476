{ cat < nofile; echo "in block $?"; }
(echo x > nodir/f)
echo "subshell $?"
cat < nofile || echo "failed $?"
if echo x > nodir/f; then echo yes; else echo "no $?"; fi
