package cmds

import (
	"errors"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

func init() {
	Register("true", func(*Env, ...string) error { return nil })
	Register("false", func(*Env, ...string) error { return &ExitError{Code: 1} })
	Register("echo", echo)
	Register("cat", cat)
	Register("sleep", sleep)
}

// echo writes its arguments separated by spaces; -n omits the newline.
func echo(e *Env, args ...string) error {
	nl := true
	if len(args) > 0 && args[0] == "-n" {
		nl, args = false, args[1:]
	}
	s := strings.Join(args, " ")
	if nl {
		s += "\n"
	}
	_, err := io.WriteString(e.Stdout, s)
	return err
}

// cat copies its files (or stdin, or "-") to stdout.
func cat(e *Env, args ...string) error {
	if len(args) == 0 {
		args = []string{"-"}
	}
	var failed error
	for _, name := range args {
		if name == "-" {
			if _, err := io.Copy(e.Stdout, e.Stdin); err != nil {
				return err
			}
			continue
		}
		o, err := e.OS()
		if err != nil {
			return err
		}
		f, err := o.Open(name)
		if err != nil {
			warn(e, "cat", err)
			failed = &ExitError{Code: 1}
			continue
		}
		_, err = io.Copy(e.Stdout, f)
		f.Close()
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == name { // reading it failed (a directory)
			warn(e, "cat", err)
			failed = &ExitError{Code: 1}
			continue
		}
		if err != nil {
			return err
		}
	}
	return failed
}

// sleep waits for a number of seconds (fractions allowed).
func sleep(e *Env, args ...string) error {
	if len(args) != 1 {
		return usage("sleep SECONDS")
	}
	s, err := strconv.ParseFloat(strings.TrimSuffix(args[0], "s"), 64)
	if err != nil || s < 0 {
		return usage("sleep SECONDS (not %q)", args[0])
	}
	time.Sleep(time.Duration(s * float64(time.Second)))
	return nil
}
