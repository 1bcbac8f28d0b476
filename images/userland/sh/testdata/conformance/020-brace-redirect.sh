{ echo one; echo two; } > out.txt
cat out.txt
