for x in 1 5 9; do
  case $x in
    [1-3]) echo low;;
    [4-6]) echo mid;;
    *) echo high;;
  esac
done
