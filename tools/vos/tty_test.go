package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"
	"github.com/vos-os/vos/internal/testutil"
)

// ptyTerm is a program driven through a real pseudo-terminal, as a user's
// terminal emulator would.
type ptyTerm struct {
	t   *testing.T
	f   *os.File
	cmd *exec.Cmd

	mu  sync.Mutex
	out bytes.Buffer
}

func (e *env) terminal(args ...string) *ptyTerm {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "vos"), args...)
	cmd.Env = append(os.Environ(), "VOS_HOME="+e.home, "VOS_URL="+e.url, "VOS_NODE=n1", "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	tm := &ptyTerm{t: e.t, f: f, cmd: cmd}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	e.t.Cleanup(func() { _ = cmd.Process.Kill(); f.Close() })
	return tm
}

// waitFor polls the screen until it holds want count times.
func (tm *ptyTerm) waitFor(want string, count int) {
	tm.t.Helper()
	testutil.Poll(tm.t, func() error {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		if strings.Count(tm.out.String(), want) < count {
			return fmt.Errorf("the terminal shows %q %d times, want %d:\n%s", want, strings.Count(tm.out.String(), want), count, tm.out.String())
		}
		return nil
	})
}

// count tells how often the screen holds s.
func (tm *ptyTerm) count(s string) int {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return strings.Count(tm.out.String(), s)
}

func (tm *ptyTerm) typ(s string) {
	tm.t.Helper()
	if _, err := tm.f.Write([]byte(s)); err != nil {
		tm.t.Fatal(err)
	}
}

// TestInteractiveBash drives vos exec -it with the host's bash through a
// real pseudo-terminal: its terminal is one of the pod's, Up recalls the
// last command, Ctrl-C interrupts a sleep, Ctrl-D ends the shell.
func TestInteractiveBash(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("pods need root")
	}
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("the host has no /bin/bash")
	}
	e := newEnv(t)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte("name: web\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustVos("up", mf)
	tm := e.terminal("exec", "-it", "web", "--", "/bin/bash", "--norc", "--noprofile")
	tm.typ("PS1='vos$ '\r")
	tm.waitFor("vos$ ", 1)
	tm.typ("tty; stty size; echo term=$TERM\r")
	tm.waitFor("/dev/pts/", 1)
	tm.waitFor("30 100", 1)
	tm.waitFor("term=xterm", 1)
	tm.typ("echo recalled-$((6*7))\r")
	tm.waitFor("recalled-42", 1)
	tm.typ("\x1b[A\r") // Up, Enter: the last command again
	tm.waitFor("recalled-42", 2)
	tm.typ("sleep 293\r")
	tm.waitFor("sleep 293", 1)
	// Ctrl-C once the sleep runs (before, bash would take it itself).
	testutil.Poll(t, func() error {
		if err := exec.Command("pgrep", "-x", "-f", "sleep 293").Run(); err != nil {
			return fmt.Errorf("the sleep does not run yet: %v", err)
		}
		return nil
	})
	prompts := tm.count("vos$ ")
	tm.typ("\x03") // Ctrl-C: the prompt is back long before the sleep could end
	tm.waitFor("vos$ ", prompts+1)
	tm.typ("echo status=$?\r")
	tm.waitFor("status=130", 1)
	tm.typ("\x04") // Ctrl-D: bash ends
	done := make(chan error, 1)
	go func() { done <- tm.cmd.Wait() }()
	if err := testutil.Recv(t, done, "vos exec to end after Ctrl-D"); err != nil {
		t.Errorf("vos exec after Ctrl-D: %v", err)
	}
}

// TestInteractiveSh drives vos exec -it with the image's own sh through a
// real pseudo-terminal: Up recalls the last command, Ctrl-C interrupts a
// sleep, Ctrl-D ends the shell.
func TestInteractiveSh(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("pods need root")
	}
	e := newEnv(t)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte("name: web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustVos("up", mf)
	tm := e.terminal("exec", "-it", "web", "--", "sh")
	tm.waitFor("# ", 1)
	tm.typ("echo native-$((6*7))\r")
	tm.waitFor("native-42", 1) // its output (the line shows $((6*7)))
	tm.typ("\x1b[A\r")         // Up, Enter: the last command again
	tm.waitFor("native-42", 2)
	tm.typ("sleep 291\r")
	testutil.Poll(t, func() error { // Ctrl-C once the sleep runs
		if err := exec.Command("pgrep", "-f", "sleep 291").Run(); err != nil {
			return fmt.Errorf("the sleep does not run yet: %v", err)
		}
		return nil
	})
	prompts := tm.count("\r# ") // how readline draws the prompt
	tm.typ("\x03")
	tm.waitFor("\r# ", prompts+1) // back at the prompt: the next line is the shell's
	tm.typ("echo st=$?\r")
	tm.waitFor("st=130", 1)
	tm.typ("\x04") // Ctrl-D on an empty line: the shell ends
	done := make(chan error, 1)
	go func() { done <- tm.cmd.Wait() }()
	if err := testutil.Recv(t, done, "vos exec to end after Ctrl-D"); err != nil {
		t.Errorf("vos exec after Ctrl-D: %v", err)
	}
}
