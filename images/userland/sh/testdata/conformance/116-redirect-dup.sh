{ echo out; echo err >&2; } 2>&1 | cat
echo to-stderr >&2
