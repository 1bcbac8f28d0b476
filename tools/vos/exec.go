package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nuid"
	"github.com/spf13/cobra"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
	"github.com/vos-os/vos/tools/internal/cli"
	"golang.org/x/term"
)

// drainWait bounds how long vos exec waits for output still in flight after
// its process ended (a background child may hold stdout open for ever).
const drainWait = 2 * time.Second

func execCommand() *cobra.Command {
	var node, dir string
	var env []string
	var interactive, tty bool
	cmd := &cobra.Command{
		Use:   "exec NAME [flags] -- PROG [ARGS...]",
		Short: "Run a program inside an instance, with stdio attached",
		Long: `Run a program inside an instance, in its pod on the node: an image command
by name (sh, ls, cat…); a host binary by absolute path; or, for a name the
image has no command of, the host binary of that name on the instance's PATH
(/usr/local/bin, /usr/bin, /bin, where the manifest binds them: python3,
git). The pod's root is the instance's filesystem. Output is attached; -i attaches stdin too; -t gives a
pseudo-terminal (vos exec -it web -- sh is an interactive shell). vos exec
exits with the program's exit code, or 128+N when signal N killed it; Ctrl-C
is forwarded as SIGINT.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return fmt.Errorf("usage: vos exec NAME [flags] -- PROG [ARGS...]")
			}
			if tty && !term.IsTerminal(int(os.Stdin.Fd())) {
				return fmt.Errorf("-t needs a terminal on stdin")
			}
			c, err := instanceConn(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.NATS().Close()
			code, err := runExec(cmd.Context(), c, args[0], args[1], args[2:], execOpts{
				node: node, dir: dir, env: env, stdin: interactive || tty, tty: tty,
			})
			if err != nil {
				return err
			}
			if code != 0 {
				return cli.ExitError{Code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&node, "node", "", "run on this node (default: the least-loaded node of the instance)")
	f.StringVarP(&dir, "workdir", "w", "/", "working directory inside the instance")
	f.StringArrayVarP(&env, "env", "e", nil, "set an environment variable KEY=value (repeatable)")
	f.BoolVarP(&interactive, "interactive", "i", false, "attach stdin")
	f.BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-terminal")
	return cmd
}

type execOpts struct {
	node, dir  string
	env        []string
	stdin, tty bool
}

// runExec starts the program with its output streamed here, forwards stdin
// and signals, and returns its exit code.
func runExec(ctx context.Context, c *ipc.Conn, inst, prog string, args []string, o execOpts) (int, error) {
	vos := libvos.New(c, inst)
	base := ipc.ExecStreams(inst, nuid.Next())
	outSubj, errSubj, inSubj := base+".out", base+".err", base+".in"
	outR, err := ipc.ServeStream(c.NATS(), outSubj, os.Stdout)
	if err != nil {
		return 0, err
	}
	defer outR.Close()
	attr := &libvos.ProcAttr{Dir: o.dir, Env: o.env, Node: o.node, Pgid: -1, Stdout: libvos.Stream(outSubj)}
	var errR *ipc.StreamReader
	if o.tty {
		cols, rows, _ := term.GetSize(int(os.Stdin.Fd()))
		attr.Tty = &libvos.Tty{Rows: uint16(rows), Cols: uint16(cols), Term: os.Getenv("TERM")}
	} else {
		if errR, err = ipc.ServeStream(c.NATS(), errSubj, os.Stderr); err != nil {
			return 0, err
		}
		defer errR.Close()
		attr.Stderr = libvos.Stream(errSubj)
	}
	if o.stdin {
		attr.Stdin = libvos.Stream(inSubj)
	}
	p, err := vos.StartProcess(prog, args, attr)
	if err != nil {
		return 0, err
	}
	if o.tty {
		old, err := term.MakeRaw(int(os.Stdin.Fd()))
		if err == nil {
			defer term.Restore(int(os.Stdin.Fd()), old)
		}
		go forwardResize(c, inst, p)
	}
	if o.stdin {
		go forwardStdin(ctx, c, inSubj)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			_ = vos.Kill(-p.Pid, s.(syscall.Signal)) // the whole group it leads
		}
	}()
	st, err := p.Wait()
	if err != nil {
		return 0, fmt.Errorf("wait for pid %d: %w", p.Pid, err)
	}
	for _, r := range []*ipc.StreamReader{outR, errR} {
		if r == nil {
			continue
		}
		select {
		case <-r.Done():
		case <-time.After(drainWait):
		}
	}
	if st.Why != "" { // a kill VOS knows the cause of: say it, after the output
		fmt.Fprintf(os.Stderr, "killed: %s\n", st.Why)
	}
	return st.ExitCode(), nil
}

// forwardStdin copies our stdin into the process's stdin stream, then ends it.
func forwardStdin(ctx context.Context, c *ipc.Conn, subject string) {
	w, err := ipc.OpenStream(ctx, c, subject, 10*time.Second)
	if err != nil {
		return
	}
	defer w.Close()
	buf := make([]byte, ipc.StreamChunk)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// forwardResize passes terminal size changes on to the process's node.
func forwardResize(c *ipc.Conn, inst string, p *libvos.Process) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	defer signal.Stop(ch)
	for range ch {
		cols, rows, err := term.GetSize(int(os.Stdin.Fd()))
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = c.Call(ctx, ipc.NodeEndpoint(p.Node), ipc.OpSysResize,
			&ipc.SysResizeReq{Inst: inst, PID: p.Pid, Rows: uint16(rows), Cols: uint16(cols)}, nil)
		cancel()
	}
}

func psCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ps NAME",
		Short: "List an instance's processes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := instanceConn(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.NATS().Close()
			procs, err := libvos.New(c, args[0]).Processes()
			if err != nil {
				return err
			}
			return writePs(cmd.OutOrStdout(), procs)
		},
	}
}

func writePs(out io.Writer, procs []libvos.ProcInfo) error {
	t := cli.NewTable(out, "PID", "PPID", "PGID", "UID", "NODE", "STAT", "TIME", "COMMAND")
	for _, p := range procs {
		node := p.Node
		if node == "" {
			node = "-"
		}
		t.Row(p.PID, p.PPID, p.PGID, p.UID, node, p.State, cli.Duration(time.Since(p.Started)),
			strings.TrimSpace(p.Prog+" "+strings.Join(p.Args, " ")))
	}
	return t.Flush()
}

func killCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "kill NAME [-SIGNAL | -s SIGNAL] PID...",
		Short: "Send a signal (default TERM) to processes of an instance; a negative PID is a process group",
		Long: `Send a signal to processes of an instance, wherever they run. SIGNAL is a
name (TERM, INT, KILL, HUP, USR1…, with or without SIG) or a number. A PID
below -1 names the process group -PID (put -- before it).`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
				return cmd.Help()
			}
			inst, sig, pids, err := parseKill(args)
			if err != nil {
				return err
			}
			c, err := instanceConn(cmd.Context(), inst)
			if err != nil {
				return err
			}
			defer c.NATS().Close()
			vos := libvos.New(c, inst)
			var failed error
			for _, pid := range pids {
				if err := vos.Kill(pid, sig); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "vos kill: %d: %v\n", pid, errors.Unwrap(err))
					failed = cli.ExitError{Code: 1}
				}
			}
			return failed
		},
	}
}

// parseKill reads NAME [-SIG | -s SIG] [--] PID...
func parseKill(args []string) (inst string, sig syscall.Signal, pids []int, err error) {
	sig = syscall.SIGTERM
	if len(args) == 0 {
		return "", 0, nil, fmt.Errorf("usage: vos kill NAME [-SIGNAL] PID...")
	}
	inst, args = args[0], args[1:]
	switch {
	case len(args) > 1 && args[0] == "-s":
		if sig, err = parseSignal(args[1]); err != nil {
			return
		}
		args = args[2:]
	case len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "--":
		if sig, err = parseSignal(args[0][1:]); err != nil {
			return
		}
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return "", 0, nil, fmt.Errorf("usage: vos kill NAME [-SIGNAL] PID...: no pid given")
	}
	for _, a := range args {
		pid, perr := strconv.Atoi(a)
		if perr != nil || pid == 0 || pid == -1 {
			return "", 0, nil, fmt.Errorf("vos kill: %q is not a pid (or -PGID)", a)
		}
		pids = append(pids, pid)
	}
	return inst, sig, pids, nil
}

var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM,
	"TERM": syscall.SIGTERM, "CONT": syscall.SIGCONT, "STOP": syscall.SIGSTOP, "TSTP": syscall.SIGTSTP,
	"WINCH": syscall.SIGWINCH,
}

func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 64 {
		return syscall.Signal(n), nil
	}
	if sig, ok := signalNames[strings.TrimPrefix(strings.ToUpper(s), "SIG")]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("vos kill: unknown signal %q", s)
}
