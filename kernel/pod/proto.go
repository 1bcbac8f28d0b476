package pod

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// The control socket is a SOCK_SEQPACKET pair: one JSON message per
// packet, descriptors riding along with SCM_RIGHTS, message boundaries and
// order kept by the kernel. When the node's end closes, the init reads
// EOF and exits, and the kernel kills the rest of the pod's pid namespace
// with it: that is the lifeline.

// Operations.
const (
	opConfig  = "config"  // node → init: setup, with the bind sources' fds
	opFUSE    = "fuse"    // init → node: /dev/fuse fd of the mounted root
	opReady   = "ready"   // init → node: the pod is built and hardened
	opStart   = "start"   // node → init: start a program, stdio fds attached
	opStarted = "started" // init → node: its pid, with a pidfd attached
	opSignal  = "signal"  // node → init
	opList    = "list"    // node → init
	opProcs   = "procs"   // init → node
	opExit    = "exit"    // init → node: a process of the pod ended
	opError   = "error"   // init → node: a request (or the setup) failed
	opOK      = "ok"      // init → node: a request done
	opPty     = "pty"     // node → init: a terminal of the pod's devpts
	opPtys    = "ptys"    // init → node: its master and slave attached
)

// maxMsg bounds one control message (argv and environment included).
const maxMsg = 1 << 20

// maxFds bounds the descriptors that ride on one message.
const maxFds = 64

type msg struct {
	Op string `json:"op"`
	ID uint64 `json:"id,omitempty"`

	Config *wireConfig `json:"config,omitempty"`
	Start  *startReq   `json:"start,omitempty"`
	Conn   uint32      `json:"conn,omitempty"` // FUSE connection (device minor)

	Pid    int        `json:"pid,omitempty"`
	Sig    int        `json:"sig,omitempty"`
	Code   int        `json:"code,omitempty"`
	Procs  []ProcInfo `json:"procs,omitempty"`
	Err    string     `json:"err,omitempty"`
	Errno  int        `json:"errno,omitempty"`
	Fds    int        `json:"fds,omitempty"`
	Signal int        `json:"signal,omitempty"`
}

// wireConfig is what the init gets: the Config less what stays with the
// node, plus where in the attached descriptors each source is.
type wireConfig struct {
	Config
	HasBinary bool
	// Fds: [root dir], host binds in order, binds in order, [binary].
}

// startReq is a program to start; its descriptors ride along.
type startReq struct {
	Argv       []string
	Env        []string
	Dir        string
	Path       string `json:",omitempty"`
	UID, GID   uint32
	Groups     []uint32 `json:",omitempty"`
	Setsid     bool     `json:",omitempty"`
	Setctty    bool     `json:",omitempty"`
	Ctty       int      `json:",omitempty"`
	Setpgid    bool     `json:",omitempty"`
	ExecBinary bool     `json:",omitempty"`
	// Fds says which of fds 0, 1, 2 came with the message (the rest are
	// /dev/null); the extra files follow them.
	Stdio [3]bool
	Extra int `json:",omitempty"`
}

// send writes one message with its descriptors.
func send(c *net.UnixConn, m *msg, files ...*os.File) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(data) > maxMsg {
		return fmt.Errorf("control message of %d bytes (limit %d)", len(data), maxMsg)
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = syscall.UnixRights(fds...)
	}
	_, _, err = c.WriteMsgUnix(data, oob, nil)
	return err
}

// recv reads one message and the descriptors that came with it (owned by
// the caller, close-on-exec).
func recv(c *net.UnixConn, buf, oob []byte) (*msg, []*os.File, error) {
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, nil, err
	}
	var files []*os.File
	if oobn > 0 {
		cms, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, nil, err
		}
		for _, cm := range cms {
			fds, err := syscall.ParseUnixRights(&cm)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), "fd"))
			}
		}
	}
	if n == 0 {
		closeAll(files)
		return nil, nil, errEOF
	}
	if flags&(syscall.MSG_TRUNC|syscall.MSG_CTRUNC) != 0 {
		closeAll(files)
		return nil, nil, errors.New("control message truncated")
	}
	var m msg
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		closeAll(files)
		return nil, nil, fmt.Errorf("control message: %w", err)
	}
	return &m, files, nil
}

var errEOF = errors.New("control socket closed")

func closeAll(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

// socketPair makes the control socket pair with large buffers (a
// SEQPACKET message must fit in the send buffer whole).
func socketPair() (node, init *os.File, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("control socket: %w", err)
	}
	for _, fd := range fds {
		// SO_SNDBUFFORCE: the init, root only in its user namespace,
		// could not raise its own buffer past wmem_max.
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, 2*maxMsg)
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 2*maxMsg)
	}
	return os.NewFile(uintptr(fds[0]), "pod-ctl"), os.NewFile(uintptr(fds[1]), "pod-ctl-init"), nil
}

// fileConn makes a UnixConn of a socket file (and closes the file).
func fileConn(f *os.File) (*net.UnixConn, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("control socket is not a unix socket")
	}
	return uc, nil
}
