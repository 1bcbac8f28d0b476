printf 'a b\nc d e\n' | wc -w
