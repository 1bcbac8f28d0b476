package cmds_test

import (
	"fmt"
	"strings"
	"testing"
)

// numbered is n lines "1\n2\n…".
func numbered(from, to int) string {
	var sb strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&sb, "%d\n", i)
	}
	return sb.String()
}

func TestText(t *testing.T) {
	b := newBox(t)
	b.write("/twelve", numbered(1, 12), "/hello", "hello world\nfoo bar baz\n", "/nonl", "a\nb\nlast",
		"/words", "The cat\nthe dog\na+b\n(x)\nend$\nTHE END\n", "/empty", "")
	if err := b.o.Mkdir("/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	b.check([]tc{
		// echo and cat
		{Cmd: []string{"echo", "a", "b"}, Out: "a b\n"},
		{Cmd: []string{"echo", "-n", "a"}, Out: "a"},
		{Cmd: []string{"cat", "/hello", "-", "/nonl"}, Stdin: "in\n", Out: "hello world\nfoo bar baz\nin\na\nb\nlast"},
		{Cmd: []string{"cat"}, Stdin: "x", Out: "x"},
		{Cmd: []string{"cat", "/missing", "/nonl"}, Out: "a\nb\nlast", Err: "cat: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"cat", "/dir", "/nonl"}, Out: "a\nb\nlast", Err: "cat: /dir: is a directory\n", Status: 1},

		// wc, busybox's columns
		{Name: "echo hello | wc -c", Cmd: []string{"wc", "-c"}, Stdin: "hello\n", Out: "6\n"},
		{Cmd: []string{"wc", "-l"}, Stdin: "a\nb\n", Out: "2\n"},
		{Cmd: []string{"wc"}, Stdin: "hello world\nfoo\n", Out: "        2         3        16\n"},
		{Cmd: []string{"wc", "-lw"}, Stdin: "hello world\nfoo\n", Out: "        2         3\n"},
		{Cmd: []string{"wc", "/hello"}, Out: "        2         5        24 /hello\n"},
		{Cmd: []string{"wc", "-c", "/hello"}, Out: "24 /hello\n"},
		{Cmd: []string{"wc", "-w", "/nonl", "/empty"}, Out: "        3 /nonl\n        0 /empty\n        3 total\n"},
		{Cmd: []string{"wc", "-l", "/hello", "-"}, Stdin: "x\n", Out: "        2 /hello\n        1 -\n        3 total\n"},
		{Cmd: []string{"wc", "-l", "/missing", "/hello"}, Out: "        2 /hello\n        2 total\n", Err: "wc: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"wc", "-z"}, ErrHas: "wc: unknown option -z\n", Status: 2},

		// head
		{Cmd: []string{"head", "/twelve"}, Out: numbered(1, 10)},
		{Cmd: []string{"head", "-n", "3", "/twelve"}, Out: numbered(1, 3)},
		{Cmd: []string{"head", "-n3", "/twelve"}, Out: numbered(1, 3)},
		{Cmd: []string{"head", "-2", "/twelve"}, Out: numbered(1, 2)},
		{Cmd: []string{"head", "-n", "0", "/twelve"}, Out: ""},
		{Cmd: []string{"head", "-c", "5", "/hello"}, Out: "hello"},
		{Cmd: []string{"head", "-n", "5", "/nonl"}, Out: "a\nb\nlast"},
		{Cmd: []string{"head", "-n", "1"}, Stdin: "x\ny\n", Out: "x\n"},
		{Cmd: []string{"head", "-n", "1", "/hello", "-", "/nonl"}, Stdin: "in\n",
			Out: "==> /hello <==\nhello world\n\n==> standard input <==\nin\n\n==> /nonl <==\na\n"},
		{Cmd: []string{"head", "/missing"}, Err: "head: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"head", "-n", "x"}, ErrHas: "invalid value \"x\" for flag -n", Status: 2},

		// tail
		{Cmd: []string{"tail", "/twelve"}, Out: numbered(3, 12)},
		{Cmd: []string{"tail", "-n", "2", "/twelve"}, Out: numbered(11, 12)},
		{Cmd: []string{"tail", "-1", "/twelve"}, Out: "12\n"},
		{Cmd: []string{"tail", "-n", "+11", "/twelve"}, Out: numbered(11, 12)},
		{Cmd: []string{"tail", "-n", "0", "/twelve"}, Out: ""},
		{Cmd: []string{"tail", "-n", "2", "/nonl"}, Out: "b\nlast"},
		{Cmd: []string{"tail", "-n", "9", "/nonl"}, Out: "a\nb\nlast"},
		{Cmd: []string{"tail", "-c", "4", "/hello"}, Out: "baz\n"},
		{Cmd: []string{"tail", "-c", "+7", "/hello"}, Out: "world\nfoo bar baz\n"},
		{Cmd: []string{"tail", "-n", "2"}, Stdin: numbered(1, 12), Out: numbered(11, 12)},
		{Cmd: []string{"tail", "-n", "+3"}, Stdin: numbered(1, 4), Out: numbered(3, 4)},
		{Cmd: []string{"tail", "-c", "3"}, Stdin: "abcdef", Out: "def"},
		{Cmd: []string{"tail", "-n", "1", "/hello", "/nonl"}, Out: "==> /hello <==\nfoo bar baz\n\n==> /nonl <==\nlast"},
		{Cmd: []string{"tail", "/missing"}, Err: "tail: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"tail", "/dir"}, Err: "tail: /dir: is a directory\n", Status: 1},

		// grep: basic regular expressions unless -E or -F
		{Cmd: []string{"grep", "the", "/words"}, Out: "the dog\n"},
		{Cmd: []string{"grep", "-i", "the", "/words"}, Out: "The cat\nthe dog\nTHE END\n"},
		{Cmd: []string{"grep", "-v", "-i", "the", "/words"}, Out: "a+b\n(x)\nend$\n"},
		{Cmd: []string{"grep", "-c", "-i", "the", "/words"}, Out: "3\n"},
		{Cmd: []string{"grep", "-n", "d", "/words"}, Out: "2:the dog\n5:end$\n"},
		{Cmd: []string{"grep", "-in", "end", "/words"}, Out: "5:end$\n6:THE END\n"},
		{Cmd: []string{"grep", "-q", "cat", "/words"}},
		{Cmd: []string{"grep", "-q", "zebra", "/words"}, Status: 1},
		{Cmd: []string{"grep", "zebra", "/words"}, Status: 1},
		{Cmd: []string{"grep", "a+b", "/words"}, Out: "a+b\n"},      // + is plain in a BRE
		{Cmd: []string{"grep", "(x)", "/words"}, Out: "(x)\n"},      // and so are ( )
		{Cmd: []string{"grep", "d$", "/words"}, Status: 1},          // but "$" anchors (nothing ends in d)
		{Cmd: []string{"grep", "^the", "/words"}, Out: "the dog\n"}, // and so does "^"
		{Cmd: []string{"grep", "a^", "/words"}, Status: 1},          // only at the start
		{Cmd: []string{"grep", "end\\$", "/words"}, Out: "end$\n"},  // an escaped "$"
		{Cmd: []string{"grep", "cat\\|dog", "/words"}, Out: "The cat\nthe dog\n"},
		{Cmd: []string{"grep", "\\(o\\)\\{1\\}g", "/words"}, Out: "the dog\n"},
		{Cmd: []string{"grep", "-E", "cat|dog", "/words"}, Out: "The cat\nthe dog\n"},
		{Cmd: []string{"grep", "-E", "a+b", "/words"}, Out: "", Status: 1}, // one or more a, then b
		{Cmd: []string{"grep", "-F", "a+b", "/words"}, Out: "a+b\n"},
		{Cmd: []string{"grep", "[[:upper:]]\\{3\\}", "/words"}, Out: "THE END\n"},
		{Cmd: []string{"grep", "[]x]", "/words"}, Out: "(x)\n"},
		{Cmd: []string{"grep", "-e", "cat", "-e", "dog", "/words"}, Out: "The cat\nthe dog\n"},
		{Cmd: []string{"grep", "-w", "the", "/words"}, Out: "the dog\n"},
		{Cmd: []string{"grep", "-x", "-i", "the end", "/words"}, Out: "THE END\n"},
		{Cmd: []string{"grep", "o"}, Stdin: "one\ntwo\nthree", Out: "one\ntwo\n"},
		{Cmd: []string{"grep", "e", "-"}, Stdin: "three", Out: "three\n"},
		{Cmd: []string{"grep", "o", "/hello", "/words"}, Out: "/hello:hello world\n/hello:foo bar baz\n/words:the dog\n"},
		{Cmd: []string{"grep", "-c", "o", "/hello", "/words"}, Out: "/hello:2\n/words:1\n"},
		{Cmd: []string{"grep", "-h", "o", "/hello", "/words"}, Out: "hello world\nfoo bar baz\nthe dog\n"},
		{Cmd: []string{"grep", "-H", "dog", "/words"}, Out: "/words:the dog\n"},
		{Cmd: []string{"grep", "-l", "o", "/hello", "/nonl", "/words"}, Out: "/hello\n/words\n"},
		{Cmd: []string{"grep", "o", "/missing", "/hello"}, Out: "/hello:hello world\n/hello:foo bar baz\n", Err: "grep: /missing: no such file or directory\n", Status: 2},
		{Cmd: []string{"grep", "-s", "o", "/missing"}, Status: 2},
		{Cmd: []string{"grep", "-q", "o", "/missing", "/hello"}, Err: "grep: /missing: no such file or directory\n"},
		{Cmd: []string{"grep", "a\\(", "/words"}, ErrHas: "grep: error parsing regexp", Status: 2},
		{Cmd: []string{"grep"}, ErrHas: "usage: grep", Status: 2},
	})
}

// TestTextLarge reads files of several messages and read-back chunks.
func TestTextLarge(t *testing.T) {
	b := newBox(t)
	var sb strings.Builder
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&sb, "line %05d\n", i) // 11 bytes
	}
	big := sb.String()
	b.write("/big", big, "/bignonl", strings.TrimSuffix(big, "\n"))
	last := func(n int) string { return big[len(big)-11*n:] }
	b.check([]tc{
		{Cmd: []string{"wc", "/big"}, Out: "    20000     40000    220000 /big\n"},
		{Cmd: []string{"tail", "-n", "3", "/big"}, Out: last(3)},
		{Cmd: []string{"tail", "-n", "7000", "/big"}, Out: last(7000)}, // past one 64K chunk
		{Cmd: []string{"tail", "-n", "7000", "/bignonl"}, Out: strings.TrimSuffix(last(7000), "\n")},
		{Cmd: []string{"tail", "-n", "30000", "/big"}, Out: big},
		{Cmd: []string{"tail", "-n", "7000"}, Stdin: big, Out: last(7000)},
		{Cmd: []string{"tail", "-c", "100000"}, Stdin: big, Out: big[len(big)-100000:]},
		{Cmd: []string{"head", "-n", "7000", "/big"}, Out: big[:11*7000]},
		{Cmd: []string{"grep", "-c", "line 1....", "/big"}, Out: "10000\n"},
		{Cmd: []string{"grep", "-n", "19999$", "/big"}, Out: "19999:line 19999\n"},
	})
}
