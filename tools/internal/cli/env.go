// Package cli holds what the vos and vosd commands share: the environment
// (VOS_HOME, VOS_URL, VOS_LOG), the connection to a node, starting the
// embedded default node, logging and table output.
package cli

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/vos-os/vos/ipc"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// DefaultURL is where the default node listens.
const DefaultURL = "nats://127.0.0.1:7422"

// Home is the data directory: VOS_HOME, else ~/.vos.
func Home() string {
	if h := os.Getenv("VOS_HOME"); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".vos")
	}
	return "/var/lib/vos"
}

// URL is the node to talk to: VOS_URL, else DefaultURL.
func URL() string {
	if u := os.Getenv("VOS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// HostPort extracts host:port from a NATS URL.
func HostPort(u string) (string, error) {
	if !strings.Contains(u, "://") {
		u = "nats://" + u
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("VOS_URL %q: %w", u, err)
	}
	if _, _, err := net.SplitHostPort(p.Host); err != nil {
		return "", fmt.Errorf("VOS_URL %q: want nats://HOST:PORT", u)
	}
	return p.Host, nil
}

// DefaultNodeName is the machine's host name made into a node name.
func DefaultNodeName() string {
	if n := os.Getenv("VOS_NODE"); n != "" {
		return n
	}
	h, err := os.Hostname()
	if err != nil {
		return "n1"
	}
	h, _, _ = strings.Cut(strings.ToLower(h), ".")
	var b strings.Builder
	for _, r := range h {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	name := strings.TrimLeft(b.String(), "-")
	if len(name) > 32 {
		name = name[:32]
	}
	if ipc.CheckName("node", name) != nil {
		return "n1"
	}
	return name
}

// Logger is a console logger at VOS_LOG's level (default warn: quiet).
func Logger(level string) (*zap.Logger, error) {
	if level == "" {
		level = os.Getenv("VOS_LOG")
	}
	if level == "" {
		level = "warn"
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	cfg := zap.NewDevelopmentConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.DisableStacktrace = lvl > zapcore.DebugLevel
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return cfg.Build()
}

// ExitError carries a process exit code through cobra.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Code returns the exit code for err: an ExitError's own, 1 otherwise.
func Code(err error) int {
	var e ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return 1
	}
	return 0
}
