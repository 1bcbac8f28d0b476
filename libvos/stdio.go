package libvos

import (
	"os"

	"github.com/vos-os/vos/ipc"
)

// Stdio says where one of a new process's standard streams goes:
// /dev/null (the zero value, or Null), a stream (Stream, or a Pipe's
// Stdio) or a file of the instance (FileIn, FileOut). The node that runs
// the process connects it, so the process sees an ordinary descriptor.
type Stdio struct {
	kind    uint8 // ipc.StdioNull, StdioStream or StdioFile
	subject string
	path    string
	append  bool
}

// Null is /dev/null.
func Null() Stdio { return Stdio{kind: ipc.StdioNull} }

// Stream is a stream by its subject: a pipe, or another process's stdio.
func Stream(subject string) Stdio { return Stdio{kind: ipc.StdioStream, subject: subject} }

// FileIn reads an instance file as stdin.
func FileIn(path string) Stdio { return Stdio{kind: ipc.StdioFile, path: path} }

// FileOut writes an instance file (truncated, or appended to).
func FileOut(path string, appendTo bool) Stdio {
	return Stdio{kind: ipc.StdioFile, path: path, append: appendTo}
}

// IsStream tells whether s is a stream, which other processes may join
// as writers (an output) rather than a file or /dev/null.
func (s Stdio) IsStream() bool { return s.kind == ipc.StdioStream }

// msg is s as PM takes it.
func (s Stdio) msg() ipc.Stdio {
	return ipc.Stdio{Kind: s.kind, Subject: s.subject, Path: s.path, Append: s.append}
}

// OwnStdio is the calling process's own standard streams, for children
// to inherit: a stream its node gave it, or /dev/null for one that is not
// a stream (a file, a terminal: the process's node holds those).
func OwnStdio() (stdin, stdout, stderr Stdio) {
	pick := func(s string) Stdio {
		if s != "" {
			return Stream(s)
		}
		return Null()
	}
	e, err := ipc.ProcEnvFrom(os.Getenv)
	if err != nil {
		return Null(), Null(), Null()
	}
	return pick(e.Stdin), pick(e.Stdout), pick(e.Stderr)
}

// Tty asks for a pseudo-terminal of Rows by Cols as a new process's
// stdin, stdout and stderr, its TERM being Term. The terminal's output
// goes to ProcAttr.Stdout and its input comes from ProcAttr.Stdin.
type Tty struct {
	Rows, Cols uint16
	Term       string
}

// TerminalOut tells, from a process's environment (os.Getenv or a test's),
// whether its node gave it a terminal as stdout.
func TerminalOut(getenv func(string) string) bool {
	return ipc.TtyFrom(getenv)
}

// IsProcess tells, from an environment, whether a VOS node started this
// program (so its stdio may be VOS streams its children can join).
func IsProcess(getenv func(string) string) bool {
	_, err := ipc.ProcEnvFrom(getenv)
	return err == nil
}

// IsProcessVar tells whether an environment entry is one the system task
// sets for each process: a shell passing its environment on leaves these
// out, since the child gets its own.
func IsProcessVar(kv string) bool { return ipc.IsProcEnvVar(kv) }
