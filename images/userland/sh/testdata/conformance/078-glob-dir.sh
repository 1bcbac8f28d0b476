mkdir -p g/sub
touch g/x.c g/y.c g/sub/z.c
echo g/*.c
echo g/*/*.c
echo g/*
