// Package bus runs the node's embedded NATS server (with JetStream) and
// makes the connections every VOS part uses. It also owns the credentials:
// a user name says what a connection is (the kernel, an instance, one
// process of an instance) and nats-server enforces the subjects that user
// may publish and subscribe to, so one instance can neither read nor write
// another's subjects and a process can call servers only as itself.
package bus

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus/auth"
)

// MaxPayload is the largest message: room for 1 MiB file chunks and their
// envelope.
const MaxPayload = 8 << 20

// Options configure the embedded server.
type Options struct {
	Name   string // server name: the node's name, unique in a cluster
	Dir    string // JetStream store directory
	Secret []byte // the cluster secret credentials derive from

	// Listen is the client address host:port; "" means no TCP listener
	// (in-process connections only). Port 0 picks a free port.
	Listen string
	// ClusterListen is the route address host:port; "" means no cluster.
	ClusterListen string
	// Routes are the peers' route URLs (nats://host:port).
	Routes []string
	Logger server.Logger // nil: silent
}

// Server is a running embedded nats-server.
type Server struct {
	ns     *server.Server
	secret []byte
	procs  *procCreds
}

// procCreds are the credentials of the processes this node runs: a random
// password per process, valid from its spawn until its exit, never derived
// from the cluster secret, so nothing a process holds outlives it.
type procCreds struct {
	mu sync.Mutex
	m  map[string]procCred // user -> credential
}

type procCred struct {
	pass        string
	incarnation string // the instance's incarnation it was issued in
}

func (p *procCreds) check(user, pass string) bool {
	p.mu.Lock()
	c, ok := p.m[user]
	p.mu.Unlock()
	return ok && hmac.Equal([]byte(pass), []byte(c.pass))
}

// Start starts the server and waits until it accepts connections.
func Start(o Options) (*Server, error) {
	if len(o.Secret) == 0 {
		return nil, errors.New("bus: no cluster secret")
	}
	procs := &procCreds{m: map[string]procCred{}}
	sopts := &server.Options{
		ServerName:                 o.Name,
		JetStream:                  true,
		StoreDir:                   o.Dir,
		NoSigs:                     true,
		MaxPayload:                 MaxPayload,
		CustomClientAuthentication: authenticator{secret: o.Secret, procs: procs},
		DisableJetStreamBanner:     true,
		// A peer that is down is retried every second: say so once a minute.
		ConnectErrorReports:   60,
		ReconnectErrorReports: 60,
	}
	if o.Listen == "" {
		sopts.DontListen = true
	} else {
		host, port, err := splitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: listen address %q: %w", o.Listen, err)
		}
		sopts.Host, sopts.Port = host, port
		if port == 0 {
			sopts.Port = server.RANDOM_PORT
		}
	}
	if o.ClusterListen != "" {
		host, port, err := splitHostPort(o.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("bus: cluster address %q: %w", o.ClusterListen, err)
		}
		sopts.Cluster = server.ClusterOpts{
			Name: "vos", Host: host, Port: port,
			Username: "route", Password: auth.Password(o.Secret, "route"),
		}
		for _, r := range o.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("bus: route %q: %w", r, err)
			}
			u.User = url.UserPassword("route", auth.Password(o.Secret, "route"))
			sopts.Routes = append(sopts.Routes, u)
		}
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	// nats-server's own logger exits the process on a fatal error; ours
	// records it so that Start can fail with it instead.
	fl := &fatalLog{Logger: o.Logger}
	ns.SetLoggerV2(fl, false, false, false)
	go ns.Start()
	ready := false
	for deadline := time.Now().Add(30 * time.Second); !ready && fl.fatal() == "" && time.Now().Before(deadline); {
		ready = ns.ReadyForConnections(20 * time.Millisecond)
	}
	if msg := fl.fatal(); msg != "" || !ready {
		ns.Shutdown()
		if msg == "" {
			msg = "not ready after 30s"
		}
		return nil, fmt.Errorf("bus: nats-server %s: %s", o.Name, msg)
	}
	return &Server{ns: ns, secret: o.Secret, procs: procs}, nil
}

func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", ps)
	}
	return host, port, nil
}

// NATS returns the embedded server.
func (s *Server) NATS() *server.Server { return s.ns }

// ClientURL is the URL other processes connect to ("" without a listener).
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens an in-process connection as user.
func (s *Server) Connect(user, name string, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.InProcessServer(s.ns)}, auth.ConnOptions(s.secret, user, name)...)
	return nats.Connect("", append(opts, extra...)...)
}

// IssueProcess makes the credential of a process this node starts, for
// the instance's current incarnation: a random password, valid until
// RevokeProcess (its exit) or RevokeInstance (vos down).
func (s *Server) IssueProcess(inst, incarnation string, pid int) (user, pass string, err error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	user, pass = auth.ProcessUser(inst, pid), base64.RawURLEncoding.EncodeToString(raw)
	s.procs.mu.Lock()
	s.procs.m[user] = procCred{pass: pass, incarnation: incarnation}
	s.procs.mu.Unlock()
	return user, pass, nil
}

// RevokeProcess ends a process's credential and closes every connection
// made with it.
func (s *Server) RevokeProcess(inst string, pid int) {
	user := auth.ProcessUser(inst, pid)
	s.procs.mu.Lock()
	delete(s.procs.m, user)
	s.procs.mu.Unlock()
	s.disconnect(user)
}

// RevokeInstance ends the credentials of every process of an instance
// issued in an incarnation other than keep ("" ends them all).
func (s *Server) RevokeInstance(inst, keep string) {
	prefix := auth.ProcessUser(inst, 0)
	prefix = prefix[:len(prefix)-1]
	var users []string
	s.procs.mu.Lock()
	for u, c := range s.procs.m {
		if strings.HasPrefix(u, prefix) && (keep == "" || c.incarnation != keep) {
			delete(s.procs.m, u)
			users = append(users, u)
		}
	}
	s.procs.mu.Unlock()
	for _, u := range users {
		s.disconnect(u)
	}
}

// Credential returns the live credential of a process, for the node's own
// use (tests acting as a process).
func (s *Server) Credential(inst string, pid int) (user, pass string, ok bool) {
	user = auth.ProcessUser(inst, pid)
	s.procs.mu.Lock()
	c, ok := s.procs.m[user]
	s.procs.mu.Unlock()
	return user, c.pass, ok
}

func (s *Server) disconnect(user string) {
	cz, err := s.ns.Connz(&server.ConnzOptions{Username: true, User: user, Limit: 1 << 16})
	if err != nil {
		return
	}
	for _, ci := range cz.Conns {
		_ = s.ns.DisconnectClientByID(ci.Cid)
	}
}

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Permissions returns what user may do, or false for an unknown user.
// A nil Permissions means everything (the kernel).
func Permissions(user string) (*server.Permissions, bool) {
	if user == auth.AdminUser {
		return nil, true
	}
	inst, caller, ok := auth.Confined(user)
	if !ok {
		return nil, false
	}
	p := ipc.ProcessPerms(inst, caller)
	if caller == "i" {
		p = ipc.InstancePerms(inst)
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: p.PubAllow, Deny: p.PubDeny},
		Subscribe: &server.SubjectPermission{Allow: p.SubAllow},
		// A confined user answers requests only once and briefly: the
		// messages of the streams it serves (its own pipes).
		Response: &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}, true
}

type authenticator struct {
	secret []byte
	procs  *procCreds
}

func (a authenticator) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if _, caller, ok := auth.Confined(o.Username); ok && caller != "i" {
		// A process: only the credential issued for its life.
		if !a.procs.check(o.Username, o.Password) {
			return false
		}
	} else if !hmac.Equal([]byte(o.Password), []byte(auth.Password(a.secret, o.Username))) {
		return false
	}
	perms, ok := Permissions(o.Username)
	if !ok {
		return false
	}
	c.RegisterUser(&server.User{Username: o.Username, Permissions: perms})
	return true
}

// fatalLog passes everything to Logger (if any) and keeps the first fatal
// message.
type fatalLog struct {
	server.Logger
	mu  sync.Mutex
	msg string
}

func (l *fatalLog) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msg
}

func (l *fatalLog) Fatalf(format string, v ...any) {
	l.mu.Lock()
	if l.msg == "" {
		l.msg = fmt.Sprintf(format, v...)
	}
	l.mu.Unlock()
	if l.Logger != nil {
		l.Logger.Fatalf(format, v...)
	}
}

func (l *fatalLog) Noticef(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Noticef(format, v...)
	}
}

func (l *fatalLog) Warnf(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Warnf(format, v...)
	}
}

func (l *fatalLog) Errorf(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Errorf(format, v...)
	}
}

func (l *fatalLog) Debugf(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Debugf(format, v...)
	}
}

func (l *fatalLog) Tracef(format string, v ...any) {
	if l.Logger != nil {
		l.Logger.Tracef(format, v...)
	}
}
