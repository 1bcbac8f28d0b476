package cmds

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/vos-os/vos/libvos"
)

func init() {
	Register("env", env)
	Register("pwd", pwd)
}

// env prints the environment, one NAME=value a line: env [-i] [-u NAME]...
// [NAME=VALUE]... [COMMAND [ARG]...]. -i starts from an empty environment,
// -u removes NAME, NAME=VALUE sets it. With a COMMAND (an image command),
// env runs it with that environment instead, in the same process.
func env(e *Env, args ...string) error {
	f := newFlags(e, "env", "[-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]")
	f.inOrder = true
	empty := f.Bool("i", false, "start with an empty environment")
	var unset []string
	f.Func("u", "remove `NAME` from the environment", func(s string) error { unset = append(unset, s); return nil })
	rest, err := f.parse(args)
	if err != nil {
		return err
	}
	var vars []string
	if !*empty {
		vars = slices.Clone(e.Vars)
	}
	remove := func(name string) {
		vars = slices.DeleteFunc(vars, func(kv string) bool { k, _, _ := strings.Cut(kv, "="); return k == name })
	}
	for _, name := range unset {
		remove(name)
	}
	for len(rest) > 0 && strings.Contains(rest[0], "=") {
		k, _, _ := strings.Cut(rest[0], "=")
		remove(k)
		vars = append(vars, rest[0])
		rest = rest[1:]
	}
	if len(rest) == 0 {
		var sb strings.Builder
		for _, kv := range vars {
			sb.WriteString(kv + "\n")
		}
		_, err := fmt.Fprint(e.Stdout, sb.String())
		return err
	}
	name := rest[0]
	run, ok := Lookup(name)
	if !ok {
		return &ExitError{Code: 127, Err: fmt.Errorf("%s: no such command", name)}
	}
	sub := *e
	sub.Vars = vars
	if code := Status(name, run(&sub, rest[1:]...), e.Stderr); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// pwd prints the current directory's absolute name: pwd [-L | -P]. -L
// (the default) prints $PWD if it names the current directory, -P a name
// without symlinks.
func pwd(e *Env, args ...string) error {
	f := newFlags(e, "pwd", "[-L | -P]")
	var physical bool
	f.BoolFunc("L", "print $PWD if it names the current directory (default)", func(string) error { physical = false; return nil })
	f.BoolFunc("P", "print the name without symlinks", func(string) error { physical = true; return nil })
	rest, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usage("pwd [-L | -P]")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	wd, err := o.Getwd()
	if err != nil {
		return err
	}
	if physical {
		if wd, err = realpath(o, wd); err != nil {
			return err
		}
	} else if p := e.Getenv("PWD"); p != wd && logicalName(p) {
		if a, err := o.Stat(p); err == nil {
			if b, err := o.Stat("."); err == nil && sameFile(a, b) {
				wd = p
			}
		}
	}
	_, err = fmt.Fprintln(e.Stdout, wd)
	return err
}

// logicalName tells whether p can be what pwd -L prints: absolute, with
// no "." or ".." elements.
func logicalName(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		if el == "." || el == ".." {
			return false
		}
	}
	return true
}

// realpath resolves the symlinks of an absolute name, as realpath(3).
func realpath(o *libvos.OS, name string) (string, error) {
	todo := strings.Split(strings.Trim(name, "/"), "/")
	out := "/"
	for links := 0; len(todo) > 0; {
		el := todo[0]
		todo = todo[1:]
		switch el {
		case "", ".":
			continue
		case "..":
			out = path.Dir(out)
			continue
		}
		p := path.Join(out, el)
		fi, err := o.Lstat(p)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			out = p
			continue
		}
		if links++; links > 40 {
			return "", &fs.PathError{Op: "realpath", Path: name, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := o.Readlink(p)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			out = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return out, nil
}
