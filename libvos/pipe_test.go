package libvos_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/libvos"
)

// TestDoor checks what the image's programs use libvos for besides files:
// pipes read and written as files, by this process and by children; the
// process table and groups; errnos; a second view of the instance.
func TestDoor(t *testing.T) {
	_, _, o := instance(t)
	ctx := context.Background()

	t.Run("pipe", func(t *testing.T) {
		p := o.Pipe()
		r, err := p.Reader()
		must(t, err)
		defer r.Close()
		// Two writers: end of file only once both have left.
		w1, err := p.Writer(ctx)
		must(t, err)
		w2, err := p.Writer(ctx)
		must(t, err)
		go func() {
			_, _ = io.WriteString(w1, "one ")
			_ = w1.Close()
			_, _ = io.WriteString(w2, "two")
			_ = w2.Close()
		}()
		got, err := io.ReadAll(r)
		if string(got) != "one two" || err != nil {
			t.Errorf("read %q %v", got, err)
		}
		select {
		case <-r.Done():
		default:
			t.Error("end of file read, but Done is not closed")
		}
	})

	t.Run("readerGone", func(t *testing.T) {
		p := o.Pipe()
		r, err := p.Reader()
		must(t, err)
		w, err := p.Writer(ctx)
		must(t, err)
		must(t, r.Close())
		if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("write with the reader gone: %v, want EPIPE", err)
		}
		must(t, w.Close())
	})

	t.Run("readTo", func(t *testing.T) {
		// A reader whose writer fails gives its writers EPIPE, as a pipe
		// whose reader has gone (the shell's sinks).
		p := o.Pipe()
		r, err := p.ReadTo(failing{})
		must(t, err)
		defer r.Close()
		if _, err := r.Read(make([]byte, 1)); !errors.Is(err, syscall.EBADF) {
			t.Errorf("Read of a ReadTo reader: %v, want EBADF", err)
		}
		w, err := p.Writer(ctx)
		must(t, err)
		defer w.Close()
		if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("write into a failing reader: %v, want EPIPE", err)
		}
	})

	t.Run("noReader", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if w, err := o.Pipe().Writer(cctx); err == nil {
			w.Close()
			t.Error("joined a pipe nobody reads")
		}
	})

	t.Run("children", func(t *testing.T) {
		// cat between two pipes: this process writes one and reads the other.
		in, out := o.Pipe(), o.Pipe()
		r, err := out.Reader()
		must(t, err)
		defer r.Close()
		p, err := o.StartProcess("cat", nil, &libvos.ProcAttr{Stdin: in.Stdio(), Stdout: out.Stdio(), Pgid: -1})
		must(t, err)
		if g, err := o.Getpgid(p.Pid); err != nil || g != p.Pid {
			t.Errorf("a new group's leader is in group %d %v", g, err)
		}
		procs, err := o.Processes()
		must(t, err)
		found := false
		for _, pi := range procs {
			found = found || (pi.PID == p.Pid && pi.Prog == "cat" && pi.State == libvos.ProcRunning)
		}
		if !found {
			t.Errorf("cat (pid %d) is not listed running: %+v", p.Pid, procs)
		}
		w, err := in.Writer(ctx)
		must(t, err)
		_, err = io.WriteString(w, "through cat\n")
		must(t, err)
		must(t, w.Close())
		if got, err := io.ReadAll(r); string(got) != "through cat\n" || err != nil {
			t.Errorf("cat's output: %q %v", got, err)
		}
		if st, err := p.Wait(); err != nil || !st.Success() {
			t.Errorf("cat: %v %v", st, err)
		}
	})

	t.Run("killpg", func(t *testing.T) {
		p, err := o.StartProcess("sleep", []string{"60"}, &libvos.ProcAttr{Pgid: -1})
		must(t, err)
		must(t, o.Killpg(p.Pid, syscall.SIGKILL))
		if st, err := p.Wait(); err != nil || st.Sig != int(syscall.SIGKILL) {
			t.Errorf("sleep after killpg: %v %v", st, err)
		}
		// (Once init has reaped it: a zombie still counts.)
		testutil.Eventually(t, 10*time.Second, func() error {
			if err := o.Killpg(p.Pid, 0); !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("killpg of a group with nobody left: %v, want ESRCH", err)
			}
			return nil
		})
	})

	t.Run("errno", func(t *testing.T) {
		_, err := o.Stat("/missing")
		if e, ok := libvos.ErrnoOf(err); !ok || e != syscall.ENOENT || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ErrnoOf(%v) = %v %v", err, e, ok)
		}
		if e, ok := libvos.ErrnoOf(errors.New("other")); ok {
			t.Errorf("ErrnoOf of an error without one: %v", e)
		}
	})

	t.Run("clone", func(t *testing.T) {
		must(t, o.MkdirAll("/clone/d", 0o755))
		must(t, o.Chdir("/clone"))
		defer o.Chdir("/")
		c := o.Clone()
		if wd, err := c.Getwd(); wd != "/clone" || err != nil {
			t.Errorf("a clone starts in %q %v", wd, err)
		}
		must(t, c.Chdir("d"))
		if wd, err := o.Getwd(); wd != "/clone" || err != nil {
			t.Errorf("a clone's cd moved its original to %q %v", wd, err)
		}
	})

	t.Run("attr", func(t *testing.T) {
		must(t, o.WriteFile("/attr", []byte("abc"), 0o640))
		fi, err := o.Stat("/attr")
		must(t, err)
		a, ok := fi.Sys().(*libvos.Attr)
		if !ok || a.Size != 3 || libvos.ModeFromLinux(a.Mode) != 0o640 || a.Nlink != 1 || !a.Mtime.Equal(fi.ModTime()) || a.Ino == 0 {
			t.Errorf("Sys: %+v", fi.Sys())
		}
		st, err := o.Statfs()
		must(t, err)
		if st.Bsize <= 0 || st.Blocks < st.Bfree || st.NameMax == 0 {
			t.Errorf("statfs: %+v", st)
		}
	})
}

// failing is a writer that always fails.
type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("failed") }
