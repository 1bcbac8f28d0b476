package sh

import (
	"errors"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/chzyer/readline"
	"golang.org/x/term"
	"mvdan.cc/sh/v3/expand"

	"github.com/vos-os/vos/images/userland/cmds"
	"github.com/vos-os/vos/libvos"
)

// editLoop is the interactive shell at a terminal: lines are read with
// line editing, history and completion, each run once complete.
func (s *Shell) editLoop() int {
	fd := int(os.Stdin.Fd())
	var saved *term.State
	rl, err := readline.NewEx(&readline.Config{
		Prompt:       s.prompt(false),
		Stdin:        io.NopCloser(&runeReader{in: s.io.in}),
		Stdout:       os.Stdout,
		Stderr:       os.Stderr,
		HistoryLimit: 1000,
		AutoComplete: &completer{s: s},
		EOFPrompt:    "",
		FuncIsTerminal: func() bool {
			return true
		},
		FuncMakeRaw: func() error {
			st, err := term.MakeRaw(fd)
			if err == nil {
				saved = st
			}
			return err
		},
		FuncExitRaw: func() error {
			if saved == nil {
				return nil
			}
			return term.Restore(fd, saved)
		},
		FuncGetWidth: func() int {
			if w, _, err := term.GetSize(fd); err == nil {
				return w
			}
			return 80
		},
		FuncOnWidthChanged: func(func()) {},
	})
	if err != nil {
		s.errorf("%v", err)
		return s.repl()
	}
	defer rl.Close()
	var src strings.Builder
	for {
		rl.SetPrompt(s.prompt(src.Len() > 0))
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			src.Reset() // ^C drops the line
			continue
		}
		if err != nil { // ^D, or the terminal went away
			if src.Len() == 0 {
				break
			}
		}
		src.WriteString(line + "\n")
		st, done, more := s.runLine(src.String(), err != nil)
		if more {
			continue
		}
		src.Reset()
		s.status = st
		if done || err != nil {
			return st
		}
	}
	ctx := s.begin()
	defer s.end()
	return s.finish(ctx, s.status)
}

func (s *Shell) prompt(more bool) string {
	switch {
	case more:
		return "> "
	case s.root():
		return "# "
	}
	return "$ "
}

// runeReader hands readline the terminal's input a byte at a time, so
// that nothing typed is held in readline's buffer while a command runs
// (what is typed then is the command's).
type runeReader struct{ in *input }

func (r *runeReader) Read(p []byte) (int, error) {
	if r.in == nil {
		return 0, io.EOF
	}
	for {
		b, err := r.in.next(nil)
		if len(b) > 0 && len(p) > 0 {
			p[0] = b[0]
			r.in.unread(b[1:])
			return 1, nil
		}
		if err != nil && r.in.atEOF() {
			return 0, io.EOF
		}
	}
}

// completer completes command names (the first word) and instance
// paths.
type completer struct{ s *Shell }

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	text := string(line[:pos])
	start := strings.LastIndexAny(text, " \t;|&(") + 1
	word := text[start:]
	first := strings.TrimSpace(strings.TrimRight(text[:start], " \t")) == "" ||
		strings.ContainsAny(text[max(start-1, 0):start], ";|&(")
	var cands []string
	if first && !strings.Contains(word, "/") {
		names := append(cmds.Names(), "cd", "exit", "export", "read", "set", "trap", "unset", "wait", "printf", "test")
		for _, n := range names {
			if strings.HasPrefix(n, word) {
				cands = append(cands, n[len(word):]+" ")
			}
		}
	} else {
		dir, base := path.Split(word)
		ents, err := c.s.o.ReadDir(absIn(c.s.r.Dir, dir+"."))
		if err == nil {
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), base) && (strings.HasPrefix(base, ".") || !strings.HasPrefix(e.Name(), ".")) {
					suffix := e.Name()[len(base):]
					if e.IsDir() {
						suffix += "/"
					} else {
						suffix += " "
					}
					cands = append(cands, suffix)
				}
			}
		}
		word = base
	}
	sort.Strings(cands)
	out := make([][]rune, len(cands))
	for i, x := range cands {
		out[i] = []rune(x)
	}
	return out, len([]rune(word))
}

// childTty is the terminal a command started on the shell's terminal
// gets: the same size, and TERM from the shell's variables.
func (s *Shell) childTty(env expand.Environ) *libvos.Tty {
	t := &libvos.Tty{Rows: 24, Cols: 80, Term: env.Get("TERM").String()}
	if w, h, err := term.GetSize(s.termFd); err == nil && w > 0 && h > 0 {
		t.Rows, t.Cols = uint16(h), uint16(w)
	}
	if t.Term == "" {
		t.Term = "dumb"
	}
	return t
}

// rawTerm puts the shell's terminal in raw mode while a command with a
// terminal of its own runs: every key (^C, ^D, escapes) reaches that
// terminal as typed, its line discipline does the rest. It returns what
// restores the mode (nil if it could not be changed).
func (s *Shell) rawTerm() func() {
	st, err := term.MakeRaw(s.termFd)
	if err != nil {
		return nil
	}
	return func() { _ = term.Restore(s.termFd, st) }
}
