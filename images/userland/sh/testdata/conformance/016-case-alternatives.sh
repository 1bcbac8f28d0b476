for f in x.txt y.c z.h w; do
  case "$f" in
    *.c|*.h) echo "$f source";;
    *.txt) echo "$f text";;
    *) echo "$f unknown"
  esac
done
