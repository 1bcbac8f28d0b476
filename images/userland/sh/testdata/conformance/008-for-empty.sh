for i in; do echo never; done
echo "after $?"
