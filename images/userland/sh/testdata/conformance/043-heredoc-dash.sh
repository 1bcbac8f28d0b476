	cat <<-END
	indented
		twice
	END
