package cmds_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vos-os/vos/images/userland/cmds"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/libvos"
)

// box is an instance and a root libvos.OS on it, with which commands run
// in the test's process.
type box struct {
	t    *testing.T
	o    *libvos.OS
	vars []string
}

func newBox(t *testing.T) *box {
	t.Helper()
	_, c := vostest.Instance(t, "u")
	return &box{t: t, o: libvos.New(c, "u")}
}

// run runs a command with stdin and returns its stdout, stderr and exit
// status, as vosbox would have them.
func (b *box) run(stdin, name string, args ...string) (stdout, stderr string, status int) {
	b.t.Helper()
	f, ok := cmds.Lookup(name)
	if !ok {
		b.t.Fatalf("no command %s", name)
	}
	var out, errb bytes.Buffer
	e := &cmds.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Vars: b.vars,
		OS: func() (*libvos.OS, error) { return b.o, nil }}
	status = cmds.Status(name, f(e, args...), &errb)
	return out.String(), errb.String(), status
}

// write makes files: name, content pairs.
func (b *box) write(kv ...string) {
	b.t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := b.o.WriteFile(kv[i], []byte(kv[i+1]), 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// tc is one command run and what it must give. Stdout is compared
// exactly; Stderr exactly too unless ErrHas is set, which it must contain.
type tc struct {
	Name   string
	Cmd    []string
	Stdin  string
	Out    string
	Err    string
	ErrHas string
	Status int
}

func (b *box) check(cases []tc) {
	b.t.Helper()
	for _, c := range cases {
		out, errb, st := b.run(c.Stdin, c.Cmd[0], c.Cmd[1:]...)
		name := c.Name
		if name == "" {
			name = strings.Join(c.Cmd, " ")
		}
		if out != c.Out {
			b.t.Errorf("%s: stdout\n%q\nwant\n%q", name, out, c.Out)
		}
		if c.ErrHas != "" {
			if !strings.Contains(errb, c.ErrHas) {
				b.t.Errorf("%s: stderr %q, want it to contain %q", name, errb, c.ErrHas)
			}
		} else if errb != c.Err {
			b.t.Errorf("%s: stderr %q, want %q", name, errb, c.Err)
		}
		if st != c.Status {
			b.t.Errorf("%s: status %d, want %d (stderr %q)", name, st, c.Status, errb)
		}
	}
}

// old is a fixed modification time more than six months ago, so ls shows
// its year.
var old = time.Date(2020, 1, 2, 3, 4, 5, 0, time.Local)
