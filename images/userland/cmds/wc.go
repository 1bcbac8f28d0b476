package cmds

import (
	"bufio"
	"fmt"
	"io"
)

func init() { Register("wc", wc) }

// wc counts lines, words and bytes: wc [-lwc] [FILE...], stdin with no
// FILE (or for "-"). Counts come in that order, for each file and then
// totalled when there are several, in busybox's columns; one file (or
// stdin) and one count print just the number, so `echo hello | wc -c` is 6.
func wc(e *Env, args ...string) error {
	f := newFlags(e, "wc", "[-lwc] [FILE...]")
	lines := f.Bool("l", false, "count lines")
	words := f.Bool("w", false, "count words")
	bytes := f.Bool("c", false, "count bytes")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if !*lines && !*words && !*bytes {
		*lines, *words, *bytes = true, true, true
	}
	show := []bool{*lines, *words, *bytes}
	shown := 0
	for _, s := range show {
		if s {
			shown++
		}
	}
	named := len(names) > 0
	if !named {
		names = []string{"-"}
	}
	w := bufio.NewWriter(e.Stdout)
	print := func(c *wcCounts, label string) {
		first := "%9d"
		if len(names) == 1 && shown == 1 {
			first = "%d"
		}
		format := first
		for i, n := range []int64{c.lines, c.words, c.bytes} {
			if show[i] {
				fmt.Fprintf(w, format, n)
				format = " %9d"
			}
		}
		if named {
			fmt.Fprintf(w, " %s", label)
		}
		w.WriteString("\n")
	}
	bad := false
	var total wcCounts
	for _, name := range names {
		var c wcCounts
		if err := e.readInput(name, &c); err != nil {
			w.Flush()
			warn(e, "wc", err)
			bad = true
			continue
		}
		print(&c, name)
		total.lines += c.lines
		total.words += c.words
		total.bytes += c.bytes
	}
	if len(names) > 1 {
		print(&total, "total")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return failed(bad)
}

// wcCounts counts what is written to it.
type wcCounts struct {
	lines, words, bytes int64
	inWord              bool
}

func (c *wcCounts) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	for _, b := range p {
		switch b {
		case '\n':
			c.lines++
			c.inWord = false
		case ' ', '\t', '\v', '\f', '\r':
			c.inWord = false
		default:
			if !c.inWord {
				c.inWord = true
				c.words++
			}
		}
	}
	return len(p), nil
}

// openInput opens an input operand: "-" is stdin (which the caller must
// not close: the returned closer does nothing for it).
func (e *Env) openInput(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(e.stdin()), nil
	}
	o, err := e.OS()
	if err != nil {
		return nil, err
	}
	return o.Open(name)
}

// readInput copies an input operand to w.
func (e *Env) readInput(name string, w io.Writer) error {
	r, err := e.openInput(name)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}
