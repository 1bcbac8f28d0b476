package ipc

import (
	"fmt"
	"strconv"
	"strings"
)

// The subject grammar, in one place (as nats-server keeps its templates):
//
//	vos.<inst>.srv.<role>.<caller>   a server of an instance (queue group <role>)
//	vos.<inst>.ev.<topic>            notifications inside an instance
//	vos.<inst>.proc.<pid>.<stream>   a process's stdio and signals
//	vos.node.<node>.sys.<caller>     a node's system task
//	vos.ctl.api.<caller>             the control plane (any node answers)
//	_INBOX.<inst>.<caller>.…          reply inboxes of a confined caller
//
// The caller token is the last token of every call subject. A confined
// connection may publish only with its own token (NATS enforces that through
// the connection's permissions), so a server learns who calls from the
// subject, never from the message body.
const (
	// CallerKernel is the caller token of trusted kernel code (servers,
	// the FUSE gateway, the system task, the vos tool).
	CallerKernel = "k"

	subjectRoot = "vos"
)

// Server roles.
const (
	RolePM  = "pm"
	RoleMM  = "mm"
	RoleFS  = "fs"
	RoleNet = "net"
)

// Roles lists every server role in boot order: the filesystem and memory
// first, processes and the network after them.
var Roles = []string{RoleFS, RoleMM, RolePM, RoleNet}

// IsRole tells whether r names a server role.
func IsRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Endpoint is an addressable mailbox: a subject prefix to which a caller
// appends its own token.
type Endpoint struct {
	Prefix string
	Queue  string // the queue group its servers join ("" for none)
}

// Subject is the subject a caller with token caller publishes to.
func (e Endpoint) Subject(caller string) string { return e.Prefix + "." + caller }

// Pattern is the wildcard subject its servers subscribe to.
func (e Endpoint) Pattern() string { return e.Prefix + ".*" }

func (e Endpoint) String() string { return e.Prefix }

// ServerEndpoint is the endpoint of an instance's server role.
func ServerEndpoint(inst, role string) Endpoint {
	return Endpoint{Prefix: subjectRoot + "." + inst + ".srv." + role, Queue: role}
}

// NodeEndpoint is a node's system task.
func NodeEndpoint(node string) Endpoint {
	return Endpoint{Prefix: subjectRoot + ".node." + node + ".sys", Queue: "sys"}
}

// CtlEndpoint is the control plane; every node serves it in one queue group.
func CtlEndpoint() Endpoint {
	return Endpoint{Prefix: subjectRoot + ".ctl.api", Queue: "ctl"}
}

// EventSubject is where notifications on topic are published in an instance.
func EventSubject(inst, topic string) string {
	return subjectRoot + "." + inst + ".ev." + topic
}

// ProcSubject is a process's stream (in, out, err, sig, exit).
func ProcSubject(inst string, pid int, stream string) string {
	return subjectRoot + "." + inst + ".proc." + strconv.Itoa(pid) + "." + stream
}

// PipeSubject is the seq'th pipe a process made: a stream it owns, served
// by whichever child reads it.
func PipeSubject(inst string, pid int, seq uint64) string {
	return ProcSubject(inst, pid, "io") + ".pipe." + strconv.FormatUint(seq, 10)
}

// ExecStreams is the prefix of the streams a kernel tool (vos exec) serves
// for a program it starts; id makes them unique.
func ExecStreams(inst, id string) string { return ProcSubject(inst, 0, "exec") + "." + id }

// IsProcStream tells whether subject is one of inst's process streams
// (vos.<inst>.proc.<pid>.<token>…, no wildcards): the only subjects a spawn
// may name for stdio. Anything else could make the system task publish on
// a server's subject, or answer as one.
func IsProcStream(inst, subject string) bool {
	prefix := subjectRoot + "." + inst + ".proc."
	if !strings.HasPrefix(subject, prefix) {
		return false
	}
	toks := strings.Split(subject[len(prefix):], ".")
	if len(toks) < 2 {
		return false
	}
	if _, err := strconv.Atoi(toks[0]); err != nil {
		return false
	}
	for _, t := range toks {
		if t == "" || strings.ContainsAny(t, " \t\r\n*>") {
			return false
		}
	}
	return true
}

// InstanceSubjects is the wildcard of all of an instance's subjects.
func InstanceSubjects(inst string) string { return subjectRoot + "." + inst + ".>" }

// InboxPrefix is the reply-inbox prefix of a confined caller; its
// permissions allow it to subscribe there and nowhere else's inboxes.
func InboxPrefix(inst, caller string) string { return "_INBOX." + inst + "." + caller }

// CallerOf returns the caller token of a call subject (its last token).
func CallerOf(subject string) string {
	if i := strings.LastIndexByte(subject, '.'); i >= 0 {
		return subject[i+1:]
	}
	return subject
}

// IsPIDToken tells whether a caller token names a process (a pid > 0).
func IsPIDToken(caller string) bool {
	pid, err := strconv.Atoi(caller)
	return err == nil && pid > 0 && strconv.Itoa(pid) == caller
}

// reserved names cannot be instances: they would collide with the grammar.
var reserved = map[string]bool{"node": true, "ctl": true, "srv": true, "sys": true}

// CheckName validates an instance or node name: it becomes a subject token
// and part of stream names, so 1-32 of [a-z0-9-], starting with a letter or digit.
func CheckName(kind, s string) error {
	if s == "" {
		return fmt.Errorf("%s name is empty", kind)
	}
	if len(s) > 32 {
		return fmt.Errorf("%s name %q is longer than 32 characters", kind, s)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0
		if !ok {
			return fmt.Errorf("%s name %q: only lowercase letters, digits and '-' (not first) are allowed", kind, s)
		}
	}
	if kind == "instance" && reserved[s] {
		return fmt.Errorf("instance name %q is reserved", s)
	}
	return nil
}
