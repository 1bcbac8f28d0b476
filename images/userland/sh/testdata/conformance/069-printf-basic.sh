printf '%s-%s\n' a b
printf '%d %5d %-5d|\n' 42 7 7
printf '%x %o %c\n' 255 8 hello
