package cmds

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

func init() { Register("grep", grep) }

// grep prints the lines that match a pattern: grep [-cEFHhilnqsvwx] [-e
// PATTERN]... [PATTERN] [FILE...], stdin with no FILE (or for "-"). The
// pattern is a POSIX basic regular expression (with GNU's \| \+ \? \< \>),
// an extended one with -E, a fixed string with -F; each of its lines is a
// pattern. -i ignores case, -v selects the lines that do not match, -w and
// -x match whole words or lines, -c prints counts, -l the names of the
// files that match, -n line numbers, -q nothing (stopping at the first
// match), -s no messages about unreadable files. Lines are prefixed with
// their file's name when there are several files (-H always, -h never).
// The exit status is 0 if a
// line was selected, 1 if none was, 2 after an error.
func grep(e *Env, args ...string) error {
	f := newFlags(e, "grep", "[-cEFHhilnqsvwx] [-e PATTERN]... [PATTERN] [FILE...]")
	var g grepper
	var patterns []string
	f.Func("e", "match `PATTERN`", func(s string) error { patterns = append(patterns, s); return nil })
	extended := f.Bool("E", false, "PATTERN is an extended regular expression")
	fixed := f.Bool("F", false, "PATTERN is a fixed string")
	icase := f.Bool("i", false, "ignore case")
	word := f.Bool("w", false, "match whole words only")
	line := f.Bool("x", false, "match whole lines only")
	f.BoolVar(&g.invert, "v", false, "select non-matching lines")
	f.BoolVar(&g.count, "c", false, "print only a count of selected lines")
	f.BoolVar(&g.list, "l", false, "print only the names of files with selected lines")
	f.BoolVar(&g.number, "n", false, "print line numbers")
	f.BoolVar(&g.quiet, "q", false, "print nothing; exit 0 at the first selected line")
	silent := f.Bool("s", false, "no messages about missing or unreadable files")
	withName := f.Bool("H", false, "prefix lines with their file's name")
	noName := f.Bool("h", false, "never prefix lines with a file's name")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if patterns == nil {
		if len(names) == 0 {
			return usage("grep [-cEFHhilnqsvwx] [-e PATTERN]... [PATTERN] [FILE...]")
		}
		patterns, names = names[:1], names[1:]
	}
	g.re, err = compilePatterns(patterns, *extended, *fixed, *icase, *word, *line)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	g.w = bufio.NewWriter(e.Stdout)
	g.prefix = (len(names) > 1 || *withName) && !*noName
	if len(names) == 0 {
		names = []string{"-"}
	}
	bad := false
	for _, name := range names {
		done, err := g.file(e, name)
		if err != nil {
			g.w.Flush()
			if !*silent {
				warn(e, "grep", err)
			}
			bad = true
		}
		if done {
			break
		}
	}
	if err := g.w.Flush(); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	switch {
	case g.quiet && g.matched:
		return nil
	case bad:
		return &ExitError{Code: 2}
	case g.matched:
		return nil
	}
	return &ExitError{Code: 1}
}

type grepper struct {
	re                                         *regexp.Regexp
	invert, count, list, number, quiet, prefix bool
	w                                          *bufio.Writer
	matched                                    bool // some line was selected
}

// file greps one input; done says to stop (-q found a line).
func (g *grepper) file(e *Env, name string) (done bool, err error) {
	r, err := e.openInput(name)
	if err != nil {
		return false, err
	}
	defer r.Close()
	label := name
	if name == "-" {
		label = "(standard input)"
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var n, selected int64
	var long []byte
	for {
		line, rerr := br.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			long = append(long, line...)
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if len(line) > 0 {
			n++
			text := strings.TrimSuffix(string(line), "\n")
			if g.re.MatchString(text) != g.invert {
				selected++
				g.matched = true
				switch {
				case g.quiet:
					return true, nil
				case g.list:
					fmt.Fprintln(g.w, label)
					return false, nil
				case !g.count:
					if g.prefix {
						g.w.WriteString(label + ":")
					}
					if g.number {
						g.w.WriteString(strconv.FormatInt(n, 10) + ":")
					}
					g.w.WriteString(text + "\n")
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return false, rerr
		}
	}
	if g.count {
		if g.prefix {
			g.w.WriteString(label + ":")
		}
		fmt.Fprintln(g.w, selected)
	}
	return false, nil
}

// compilePatterns makes one Go regexp of grep's patterns: each pattern's
// lines are alternatives.
func compilePatterns(patterns []string, extended, fixed, icase, word, line bool) (*regexp.Regexp, error) {
	var alts []string
	for _, p := range patterns {
		for _, q := range strings.Split(p, "\n") {
			switch {
			case fixed:
				q = regexp.QuoteMeta(q)
			case !extended:
				var err error
				if q, err = breToGo(q); err != nil {
					return nil, err
				}
			}
			alts = append(alts, "(?:"+q+")")
		}
	}
	re := strings.Join(alts, "|")
	switch {
	case line:
		re = "^(?:" + re + ")$"
	case word:
		re = `\b(?:` + re + `)\b`
	}
	if icase {
		re = "(?i)" + re
	}
	return regexp.Compile(re)
}

// breToGo translates a POSIX basic regular expression, with GNU's \| \+
// \? and \< \> (word boundaries, \b here), to Go's syntax: \( \) \{ \} are
// the operators and ( ) { } | + ? plain characters, "*" is plain where
// nothing precedes it, "^" and "$" anchor only at the ends, a backslash
// inside brackets is itself. Back-references have no Go equivalent.
func breToGo(s string) (string, error) {
	var b strings.Builder
	start := true // at the start of an expression: "*" and "^" mean themselves / anchor
	for i := 0; i < len(s); i++ {
		c := s[i]
		atStart := start
		start = false
		switch c {
		case '\\':
			if i+1 == len(s) {
				return "", errors.New("trailing backslash")
			}
			i++
			d := s[i]
			switch {
			case strings.IndexByte("(){}|+?", d) >= 0:
				b.WriteByte(d)
				start = d == '(' || d == '|'
			case d == '<' || d == '>':
				b.WriteString(`\b`)
			case strings.IndexByte("wWsSbB", d) >= 0:
				b.WriteByte('\\')
				b.WriteByte(d)
			case d >= '1' && d <= '9':
				return "", errors.New("back-references are not supported")
			default:
				b.WriteString(regexp.QuoteMeta(string(d)))
			}
		case '[':
			j, err := bracketEnd(s, i)
			if err != nil {
				return "", err
			}
			b.WriteString(strings.ReplaceAll(s[i:j+1], `\`, `\\`))
			i = j
		case '(', ')', '{', '}', '|', '+', '?':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '*':
			if atStart {
				b.WriteString(`\*`)
			} else {
				b.WriteByte('*')
			}
		case '^':
			if atStart {
				b.WriteByte('^')
				start = true
			} else {
				b.WriteString(`\^`)
			}
		case '$':
			if i+1 == len(s) || strings.HasPrefix(s[i+1:], `\)`) || strings.HasPrefix(s[i+1:], `\|`) {
				b.WriteByte('$')
			} else {
				b.WriteString(`\$`)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// bracketEnd is the index of the "]" that closes the bracket expression
// opening at s[i].
func bracketEnd(s string, i int) (int, error) {
	j := i + 1
	if j < len(s) && s[j] == '^' {
		j++
	}
	if j < len(s) && s[j] == ']' {
		j++ // a leading "]" is a member
	}
	for ; j < len(s); j++ {
		switch {
		case s[j] == ']':
			return j, nil
		case s[j] == '[' && j+1 < len(s) && strings.IndexByte(":=.", s[j+1]) >= 0:
			// [:class:], [=x=], [.x.]: skip to its closing pair.
			k := strings.Index(s[j+2:], string(s[j+1])+"]")
			if k < 0 {
				return 0, errors.New("unmatched [")
			}
			j += 2 + k + 1
		}
	}
	return 0, errors.New("unmatched [")
}
