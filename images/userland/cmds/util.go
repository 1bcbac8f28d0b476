package cmds

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/vos-os/vos/libvos"
)

// cmdFlags is a command's options: a flag.FlagSet (ContinueOnError,
// writing to the command's stderr) with getopt's conventions in front of
// it, because those are what users type: grouped letters (-rf), a value
// joined to its letter (-n5, -m755), and options after operands (GNU's
// permutation) until "--". Every option is one letter.
type cmdFlags struct {
	*flag.FlagSet
	name, synopsis string
	stderr         io.Writer
	// inOrder stops at the first operand, as POSIX getopt does: for
	// commands whose operands are a command line of their own (env).
	inOrder bool
}

func newFlags(e *Env, name, synopsis string) *cmdFlags {
	f := &cmdFlags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), name: name, synopsis: synopsis, stderr: e.Stderr}
	f.SetOutput(e.Stderr)
	f.Usage = func() {
		fmt.Fprintf(f.stderr, "usage: %s %s\n", f.name, f.synopsis)
		f.PrintDefaults()
	}
	return f
}

// parse returns the operands. A bad option prints the command's usage and
// returns an exit status 2 error; -help (or an undefined -h) prints it and
// returns an exit status 0 error, which ends the command successfully.
func (f *cmdFlags) parse(args []string) ([]string, error) {
	var opts, operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(operands, args[i+1:]...), f.finish(opts)
		case len(a) < 2 || a[0] != '-': // an operand, "-" (stdin) among them
			if f.inOrder {
				return append(operands, args[i:]...), f.finish(opts)
			}
			operands = append(operands, a)
			continue
		case a == "-help" || a == "--help" || a == "-h" && f.Lookup("h") == nil:
			f.Usage()
			return nil, &ExitError{Code: 0}
		case strings.HasPrefix(a, "--"):
			return nil, f.fail("unknown option %s", a)
		}
		for j := 1; j < len(a); j++ {
			c := a[j : j+1]
			fl := f.Lookup(c)
			if fl == nil {
				return nil, f.fail("unknown option -%s", c)
			}
			if isBoolFlag(fl) {
				opts = append(opts, "-"+c)
				continue
			}
			v := a[j+1:]
			if v == "" {
				if i+1 == len(args) {
					return nil, f.fail("option -%s needs an argument", c)
				}
				i++
				v = args[i]
			}
			opts = append(opts, "-"+c+"="+v)
			break
		}
	}
	return operands, f.finish(opts)
}

// finish hands the normalised options to the FlagSet.
func (f *cmdFlags) finish(opts []string) error {
	if err := f.FlagSet.Parse(opts); err != nil {
		// The flag package has printed the reason and the usage.
		return &ExitError{Code: 2}
	}
	return nil
}

func (f *cmdFlags) fail(format string, args ...any) error {
	fmt.Fprintf(f.stderr, "%s: "+format+"\n", append([]any{f.name}, args...)...)
	f.Usage()
	return &ExitError{Code: 2}
}

func isBoolFlag(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// describe is an error as a command prints it after its name: "path:
// reason" for a *fs.PathError (the operation is the command's own
// business), "old -> new: reason" for an *os.LinkError, the errno's
// reason alone for an *os.SyscallError (as PM's "kill: no process 9" says
// "no such process").
func describe(err error) string {
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	switch {
	case errors.As(err, &pe):
		return pe.Path + ": " + pe.Err.Error()
	case errors.As(err, &le):
		return le.Old + " -> " + le.New + ": " + le.Err.Error()
	case errors.As(err, &se):
		if errno, ok := libvos.ErrnoOf(se.Err); ok {
			return errno.Error()
		}
		return se.Err.Error()
	}
	return err.Error()
}

// warn prints "name: path: reason" on stderr.
func warn(e *Env, name string, err error) {
	fmt.Fprintf(e.Stderr, "%s: %s\n", name, describe(err))
}

// warnf prints "name: message" on stderr.
func warnf(e *Env, name, format string, args ...any) {
	fmt.Fprintf(e.Stderr, "%s: %s\n", name, fmt.Sprintf(format, args...))
}

// failed is the result of a command that went on after errors it printed:
// exit status 1 if there was one.
func failed(f bool) error {
	if f {
		return &ExitError{Code: 1}
	}
	return nil
}

// join is path.Join without cleaning what the user typed: "dir/" + "x"
// is "dir/x", "." + "x" is "./x" (as ls -R or cp print it).
func join(dir, name string) string {
	if dir == "" || strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// base is the last element of a name, trailing slashes ignored ("/" for
// the root), as basename(1).
func base(name string) string {
	t := strings.TrimRight(name, "/")
	if t == "" {
		if name == "" {
			return ""
		}
		return "/"
	}
	return path.Base(t)
}

// stdin is e.Stdin, or an empty reader when the command has none.
func (e *Env) stdin() io.Reader {
	if e.Stdin == nil {
		return strings.NewReader("")
	}
	return e.Stdin
}
