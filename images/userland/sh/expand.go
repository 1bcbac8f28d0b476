package sh

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Expansion: parameters and ~ are replaced by their values; the values of
// unquoted parameters are split into fields on $IFS; quotes are removed.
// (No pathname expansion: a * is itself.)

// vars is what expansion reads and, for ${NAME:=word}, writes.
type vars interface {
	// lookup returns a parameter's value: a variable, a positional
	// parameter ("1"…), or a special one ("?", "$", "#", "!", "0", "-").
	lookup(name string) (string, bool)
	// positional returns $1… for $@ and $*.
	positional() []string
	// assign sets a variable (${NAME:=word}).
	assign(name, value string) error
}

// ExpandError is an expansion that fails, as ${NAME:?message}.
type ExpandError struct{ Msg string }

func (e *ExpandError) Error() string { return e.Msg }

type fields struct {
	v       vars
	ifs     string
	nosplit bool
	out     []string
	cur     strings.Builder
	have    bool // cur is a field, even if empty ("")
}

// expandFields expands words into the fields of a command line.
func expandFields(v vars, words []Word) ([]string, error) {
	f := newFields(v)
	for _, w := range words {
		for _, p := range w {
			if err := f.part(p, false); err != nil {
				return nil, err
			}
		}
		f.end()
	}
	return f.out, nil
}

// expandString expands a word with no field splitting (assignments,
// redirection targets).
func expandString(v vars, w Word) (string, error) {
	f := newFields(v)
	f.nosplit = true
	for _, p := range w {
		if err := f.part(p, true); err != nil {
			return "", err
		}
	}
	f.end()
	return strings.Join(f.out, " "), nil
}

func newFields(v vars) *fields {
	f := &fields{v: v, ifs: " \t\n"}
	if s, ok := v.lookup("IFS"); ok {
		f.ifs = s
	}
	return f
}

func (f *fields) add(s string) {
	f.cur.WriteString(s)
	f.have = true
}

// end finishes the current field, if there is one.
func (f *fields) end() {
	if f.have {
		f.out = append(f.out, f.cur.String())
	}
	f.cur.Reset()
	f.have = false
}

// split adds s, starting a new field at each run of $IFS characters.
func (f *fields) split(s string) {
	if f.nosplit || f.ifs == "" {
		f.add(s)
		return
	}
	for _, r := range s {
		if strings.ContainsRune(f.ifs, r) {
			f.end()
			continue
		}
		f.cur.WriteRune(r)
		f.have = true
	}
}

// part expands one part; quoted forces the part to be treated as quoted
// (the word of a quoted ${NAME:-word}, or no splitting at all).
func (f *fields) part(p Part, quoted bool) error {
	quoted = quoted || p.Quoted
	switch p.Kind {
	case Lit:
		f.add(p.Text)
	case Tilde:
		home, _ := f.v.lookup("HOME")
		f.add(home)
	case Param:
		if p.Text == "@" || p.Text == "*" {
			if p.Op == "" {
				f.all(p.Text == "@", quoted)
				return nil
			}
		}
		val, set := f.v.lookup(p.Text)
		if p.Text == "@" || p.Text == "*" {
			val, set = strings.Join(f.v.positional(), " "), len(f.v.positional()) > 0
		}
		null := !set || (strings.HasPrefix(p.Op, ":") && val == "")
		switch p.Op {
		case "":
		case "#":
			val = strconv.Itoa(utf8.RuneCountInString(val))
		case ":-", "-":
			if null {
				return f.arg(p.Arg, quoted)
			}
		case ":=", "=":
			if null {
				s, err := expandString(f.v, p.Arg)
				if err != nil {
					return err
				}
				if err := f.v.assign(p.Text, s); err != nil {
					return err
				}
				val = s
			}
		case ":+", "+":
			if null {
				return nil
			}
			return f.arg(p.Arg, quoted)
		case ":?", "?":
			if null {
				msg, err := expandString(f.v, p.Arg)
				if err != nil {
					return err
				}
				if msg == "" {
					msg = "parameter null or not set"
				}
				return &ExpandError{Msg: fmt.Sprintf("%s: %s", p.Text, msg)}
			}
		}
		if quoted {
			f.add(val)
		} else {
			f.split(val)
		}
	}
	return nil
}

// arg expands the word of ${NAME:-word} in the place of the parameter.
func (f *fields) arg(w Word, quoted bool) error {
	if quoted {
		f.have = true // "${X:-}" is an empty field
	}
	for _, p := range w {
		if p.Kind == Lit && !quoted && !p.Quoted {
			f.split(p.Text) // ${X:-a b} unquoted is two fields
			continue
		}
		if err := f.part(p, quoted); err != nil {
			return err
		}
	}
	return nil
}

// all expands $@ and $*: "$@" is one field per parameter, "$*" one field
// of them all joined by the first character of $IFS, and unquoted both
// are the parameters split into fields.
func (f *fields) all(at, quoted bool) {
	args := f.v.positional()
	switch {
	case quoted && at:
		for i, a := range args {
			if i > 0 {
				f.out = append(f.out, f.cur.String())
				f.cur.Reset()
			}
			f.add(a)
		}
	case quoted:
		sep := ""
		if f.ifs != "" {
			_, n := utf8.DecodeRuneInString(f.ifs)
			sep = f.ifs[:n]
		}
		f.add(strings.Join(args, sep))
	default:
		for i, a := range args {
			if i > 0 {
				f.end()
			}
			f.split(a)
		}
	}
}
