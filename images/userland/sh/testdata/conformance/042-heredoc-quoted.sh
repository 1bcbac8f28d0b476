name=world
cat <<'END'
hello $name
$(not run)
END
