printf 'x\ny\nz\n' | while read l; do echo "got $l"; done
