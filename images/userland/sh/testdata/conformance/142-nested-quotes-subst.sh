echo "$(echo "inner \"quoted\"")"
echo "$(printf '%s' 'a b')"
