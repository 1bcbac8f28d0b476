// Package auth is who may use a VOS node's bus: the user names (the
// kernel's, an instance's, one process's), the passwords derived from the
// cluster secret, the secret itself, and connecting with them. It is apart
// from kernel/bus (which embeds nats-server) so that clients such as the
// vos tool link no server.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/ipc"
)

// ConnOptions are the options of a connection authenticated as user.
func ConnOptions(secret []byte, user, name string) []nats.Option {
	opts := []nats.Option{
		nats.UserInfo(user, Password(secret, user)),
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
	}
	if inst, caller, ok := Confined(user); ok {
		opts = append(opts, nats.CustomInboxPrefix(ipc.InboxPrefix(inst, caller)))
	}
	return opts
}

// DialAs connects to a node's URL with a user and password (a process's
// credential, say).
func DialAs(url, user, pass, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := []nats.Option{nats.UserInfo(user, pass), nats.Name(name), nats.Timeout(2 * time.Second),
		nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}
	if inst, caller, ok := Confined(user); ok {
		opts = append(opts, nats.CustomInboxPrefix(ipc.InboxPrefix(inst, caller)))
	}
	return nats.Connect(url, append(opts, extra...)...)
}

// Dial connects to a node's URL as user.
func Dial(url string, secret []byte, user, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append(ConnOptions(secret, user, name), nats.Timeout(2*time.Second))
	return nats.Connect(url, append(opts, extra...)...)
}

// The users.
const AdminUser = "admin"

// InstanceUser may use every subject of an instance, except to call servers
// as the kernel: for tools acting inside one instance.
func InstanceUser(inst string) string { return "i." + inst }

// ProcessUser is one process of an instance: it calls servers as itself
// and reads and writes its own stdio.
func ProcessUser(inst string, pid int) string { return "p." + inst + "." + strconv.Itoa(pid) }

// Password derives a user's password from the cluster secret.
func Password(secret []byte, user string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Confined splits an instance or process user into its instance and
// caller token ("i" for an instance user).
func Confined(user string) (inst, caller string, ok bool) {
	parts := strings.Split(user, ".")
	switch {
	case len(parts) == 2 && parts[0] == "i":
		return parts[1], "i", true
	case len(parts) == 3 && parts[0] == "p":
		if _, err := strconv.Atoi(parts[2]); err != nil {
			return "", "", false
		}
		return parts[1], parts[2], true
	}
	return "", "", false
}

// LoadSecret reads the cluster secret from dir/secret, creating it on first
// use (or taking VOS_SECRET when set, so the nodes of a cluster share one).
func LoadSecret(dir string) ([]byte, error) {
	if s := os.Getenv("VOS_SECRET"); s != "" {
		return []byte(s), nil
	}
	path := filepath.Join(dir, "secret")
	if b, err := os.ReadFile(path); err == nil {
		return []byte(strings.TrimSpace(string(b))), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) { // another process made it first
		return LoadSecret(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(secret + "\n"); err != nil {
		return nil, err
	}
	return []byte(secret), nil
}
