cat <<END
line one
line two
END
