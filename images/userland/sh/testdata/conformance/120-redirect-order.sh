cat missing 2>&1 >/dev/null | wc -l
