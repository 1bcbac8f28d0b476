package cmds

import (
	"bytes"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	for _, c := range []struct {
		args     []string
		inOrder  bool
		a, b     bool
		n        string
		operands []string
		status   int // of the error; -1 for none
		stderr   string
	}{
		{args: []string{"-ab", "x"}, a: true, b: true, operands: []string{"x"}, status: -1},
		{args: []string{"x", "-a", "y", "-b"}, a: true, b: true, operands: []string{"x", "y"}, status: -1},
		{args: []string{"-n5", "-a"}, a: true, n: "5", status: -1},
		{args: []string{"-an", "7"}, a: true, n: "7", status: -1},
		{args: []string{"-n", "-a"}, n: "-a", status: -1},
		{args: []string{"-a", "--", "-b", "-"}, a: true, operands: []string{"-b", "-"}, status: -1},
		{args: []string{"x", "-a"}, inOrder: true, operands: []string{"x", "-a"}, status: -1},
		{args: []string{"-b", "cmd", "-a"}, inOrder: true, b: true, operands: []string{"cmd", "-a"}, status: -1},
		{args: []string{"-ax"}, status: 2, stderr: "t: unknown option -x\nusage: t [-ab] [-n N]\n"},
		{args: []string{"--long"}, status: 2, stderr: "t: unknown option --long\nusage: t [-ab] [-n N]\n"},
		{args: []string{"-n"}, status: 2, stderr: "t: option -n needs an argument\nusage: t [-ab] [-n N]\n"},
		{args: []string{"--help"}, status: 0, stderr: "usage: t [-ab] [-n N]\n"},
		{args: []string{"-h"}, status: 0, stderr: "usage: t [-ab] [-n N]\n"},
	} {
		var errb bytes.Buffer
		f := newFlags(&Env{Stderr: &errb}, "t", "[-ab] [-n N]")
		f.inOrder = c.inOrder
		a, b := f.Bool("a", false, "a"), f.Bool("b", false, "b")
		n := f.String("n", "", "n")
		ops, err := f.parse(c.args)
		status := -1
		if err != nil {
			status = Status("t", err, &errb)
		}
		stderr, _, _ := strings.Cut(errb.String(), "  -a") // the defaults follow
		if status != c.status || stderr != c.stderr {
			t.Errorf("%q: status %d, stderr %q; want %d, %q", c.args, status, stderr, c.status, c.stderr)
		}
		if err == nil && (*a != c.a || *b != c.b || *n != c.n || !slices.Equal(ops, c.operands)) {
			t.Errorf("%q: -a %v -b %v -n %q, operands %q", c.args, *a, *b, *n, ops)
		}
	}
}

func TestBRE(t *testing.T) {
	for _, c := range []struct {
		bre, re string
		match   []string
		nomatch []string
	}{
		{bre: `a+b`, re: `a\+b`, match: []string{"a+b"}, nomatch: []string{"aab"}},
		{bre: `a\+b`, re: `a+b`, match: []string{"aab"}},
		{bre: `\(ab\)*c`, re: `(ab)*c`, match: []string{"ababc", "c"}},
		{bre: `a\{2,3\}`, re: `a{2,3}`, match: []string{"aa"}, nomatch: []string{"a"}},
		{bre: `*a`, re: `\*a`, match: []string{"*a"}, nomatch: []string{"a"}},
		{bre: `^*a`, re: `^\*a`, match: []string{"*a"}},
		{bre: `a^b$`, re: `a\^b$`, match: []string{"xa^b"}},
		{bre: `a$b`, re: `a\$b`, match: []string{"a$b"}},
		{bre: `x\|y$`, re: `x|y$`, match: []string{"x1", "1y"}},
		{bre: `[]a]`, re: `[]a]`, match: []string{"]"}, nomatch: []string{"b"}},
		{bre: `[^]a]`, re: `[^]a]`, match: []string{"b"}, nomatch: []string{"]"}},
		{bre: `[\]`, re: `[\\]`, match: []string{`\`}},
		{bre: `[[:digit:]]x`, re: `[[:digit:]]x`, match: []string{"1x"}},
		{bre: `\<the\>`, re: `\bthe\b`, match: []string{"the end"}, nomatch: []string{"other"}},
		{bre: `a.c{}`, re: `a.c\{\}`, match: []string{"abc{}"}},
		{bre: `\.`, re: `\.`, match: []string{"."}, nomatch: []string{"a"}},
	} {
		re, err := breToGo(c.bre)
		if err != nil || re != c.re {
			t.Errorf("%s: %q %v, want %q", c.bre, re, err, c.re)
			continue
		}
		r := regexp.MustCompile(re)
		for _, s := range c.match {
			if !r.MatchString(s) {
				t.Errorf("%s does not match %q", c.bre, s)
			}
		}
		for _, s := range c.nomatch {
			if r.MatchString(s) {
				t.Errorf("%s matches %q", c.bre, s)
			}
		}
	}
	for _, bad := range []string{`a\`, `[ab`, `\(a\)\1`, `[[:alpha:]`} {
		if re, err := breToGo(bad); err == nil {
			t.Errorf("%s: %q, want an error", bad, re)
		}
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		0o644:                                 "-rw-r--r--",
		fs.ModeDir | 0o755:                    "drwxr-xr-x",
		fs.ModeSymlink | 0o777:                "lrwxrwxrwx",
		fs.ModeDir | fs.ModeSticky | 0o777:    "drwxrwxrwt",
		fs.ModeDir | fs.ModeSticky | 0o776:    "drwxrwxrwT",
		fs.ModeSetuid | fs.ModeSetgid | 0o755: "-rwsr-sr-x",
		fs.ModeSetuid | 0o644:                 "-rwSr--r--",
		fs.ModeNamedPipe | 0o600:              "prw-------",
		fs.ModeSocket | 0o600:                 "srw-------",
		fs.ModeDevice | fs.ModeCharDevice:     "c---------",
		fs.ModeDevice:                         "b---------",
	} {
		if got := modeString(m); got != want {
			t.Errorf("%v: %s, want %s", m, got, want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0", 1023: "1023", 1024: "1.0K", 1536: "1.5K", 10*1024 - 1: "10K", 10 * 1024: "10K",
		1 << 20: "1.0M", 1<<20 - 1: "1.0M", 15 << 30: "15G", 1 << 40: "1.0T", 1023 << 20: "1023M",
		1<<30 - 1: "1.0G",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("%d: %s, want %s", n, got, want)
		}
	}
}

func TestTimes(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	for tm, want := range map[time.Time]string{
		now.Add(-time.Hour):                         "Jun 15 11:00",
		now.AddDate(0, -5, 0):                       "Jan 15 12:00",
		now.AddDate(0, -7, 0):                       "Nov 15  2025",
		now.Add(24 * time.Hour):                     "Jun 16  2026", // the future shows its year
		time.Date(2026, 6, 1, 9, 5, 0, 0, time.UTC): "Jun  1 09:05",
	} {
		if got := lsTime(tm, now); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		5 * time.Second: "00:05", 61 * time.Minute: "01:01:00", 49 * time.Hour: "2-01:00:00", -time.Second: "00:00",
	} {
		if got := elapsed(now.Add(-d), now); got != want {
			t.Errorf("elapsed %v: %q, want %q", d, got, want)
		}
	}
	if got := elapsed(time.Time{}, now); got != "-" {
		t.Errorf("elapsed since an unknown start: %q", got)
	}
}

func TestColumns(t *testing.T) {
	var b bytes.Buffer
	columns(&b, []string{"a", "bb", "c", "dddd", "e"}, 20) // width 6: 3 columns, 2 rows
	if want := "a     c     e\nbb    dddd\n"; b.String() != want {
		t.Errorf("columns:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	columns(&b, []string{"long-name", "x"}, 5)
	if want := "long-name\nx\n"; b.String() != want {
		t.Errorf("narrow columns: %q", b.String())
	}
}

func TestTailStart(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int64
		want int64
	}{
		{"a\nb\nc\n", 2, 2}, {"a\nb\nc", 2, 2}, {"a\nb\nc\n", 5, 0}, {"a\nb\nc\n", 0, 6},
		{"", 3, 0}, {"\n\n\n", 1, 2}, {"abc", 1, 0},
	} {
		if got, err := tailStart(strings.NewReader(c.text), int64(len(c.text)), c.n); err != nil || got != c.want {
			t.Errorf("%q n=%d: %d %v, want %d", c.text, c.n, got, err, c.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	if got := describe(&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}); got != "/x: file does not exist" {
		t.Errorf("PathError: %q", got)
	}
}
