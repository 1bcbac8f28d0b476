set -- x "y z" w
for arg; do echo "[$arg]"; done
