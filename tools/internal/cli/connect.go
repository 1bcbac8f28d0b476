package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus/auth"
)

// ErrNoNode means nothing answers at the URL.
var ErrNoNode = errors.New("no VOS node answers")

// Connect connects to the node at URL() as the administrator, with the
// secret in Home().
func Connect() (*ipc.Conn, error) {
	u := URL()
	secret, err := readSecret()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !reachable(u) {
			return nil, fmt.Errorf("%w at %s (start one: vosd, or vos up FILE)", ErrNoNode, u)
		}
		return nil, fmt.Errorf("no credentials: %w (is VOS_HOME=%s the node's home?)", err, Home())
	}
	nc, err := auth.Dial(u, secret, auth.AdminUser, "vos", nats.MaxReconnects(0))
	if err != nil {
		if errors.Is(err, nats.ErrNoServers) || strings.Contains(err.Error(), "connection refused") {
			return nil, fmt.Errorf("%w at %s (start one: vosd, or vos up FILE)", ErrNoNode, u)
		}
		if errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization") {
			return nil, fmt.Errorf("the node at %s refused our credentials (is VOS_HOME=%s its home, or VOS_SECRET its secret?)", u, Home())
		}
		return nil, fmt.Errorf("connect to %s: %w", u, err)
	}
	return ipc.NewConn(nc, ipc.CallerKernel), nil
}

func readSecret() ([]byte, error) {
	if s := os.Getenv("VOS_SECRET"); s != "" {
		return []byte(s), nil
	}
	b, err := os.ReadFile(filepath.Join(Home(), "secret"))
	if err != nil {
		return nil, err
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

// reachable tells whether anything accepts connections at the URL.
func reachable(u string) bool {
	nc, err := nats.Connect(u, nats.Timeout(time.Second), nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
		return true
	}
	return !errors.Is(err, nats.ErrNoServers) && !strings.Contains(err.Error(), "connection refused")
}

// ConnectOrStart connects, starting a local vosd in the background first
// when no node answers at the URL (the embedded single-node default). It
// says so on stderr.
func ConnectOrStart(ctx context.Context) (*ipc.Conn, error) {
	c, err := Connect()
	if !errors.Is(err, ErrNoNode) {
		return c, err
	}
	pid, log, err := StartDaemon()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "vos: no node at %s; started vosd (pid %d, home %s, log %s)\n", URL(), pid, Home(), log)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err = Connect()
		if err == nil {
			// Ready when its control plane answers.
			var ls ipc.CtlNodesRep
			if err = c.Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlNodes, &ipc.CtlNodesReq{}, &ls); err == nil && len(ls.Nodes) > 0 {
				return c, nil
			}
			c.NATS().Close()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("vosd did not come up in 30s: %v (see %s)", err, log)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StartDaemon starts vosd detached, listening at URL() with data in Home().
func StartDaemon() (pid int, logPath string, err error) {
	hp, err := HostPort(URL())
	if err != nil {
		return 0, "", err
	}
	bin, err := findVosd()
	if err != nil {
		return 0, "", err
	}
	if err := os.MkdirAll(Home(), 0o700); err != nil {
		return 0, "", err
	}
	logPath = filepath.Join(Home(), "vosd.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, "", err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--home", Home(), "--listen", hp)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, "", fmt.Errorf("start %s: %w", bin, err)
	}
	pid = cmd.Process.Pid
	_ = cmd.Process.Release()
	return pid, logPath, nil
}

// findVosd looks beside the running executable, then in PATH.
func findVosd() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "vosd")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("vosd")
	if err != nil {
		return "", errors.New("cannot find vosd beside vos or in PATH (make build puts both in bin/)")
	}
	return p, nil
}
