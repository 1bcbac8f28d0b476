// Package fusefs is the FUSE gateway: it mounts an instance's filesystem on
// a host directory, so that unmodified programs (a shell, the confined host
// binaries of an instance) use VOS files through the kernel. Every FUSE
// request becomes one FS message (ipc/fs.go, sent through the shared
// client ipc/fsclient) naming the parent inode and one name, sent with the
// credentials of the process that made the request;
// the FS server, not the host kernel, decides what that process may do.
//
// Caching: the kernel keeps entries and attributes for EntryTimeout and
// AttrTimeout (1 s by default) and file pages across opens. Three things
// keep those caches honest when other nodes (or libvos) change files:
//
//   - FS change events (ipc.FSEvent on the instance's "fs" topic): the
//     gateway tells the kernel to drop the inode's attributes and pages
//     (NotifyContent) or a directory entry (NotifyEntry). Events for
//     changes this mount made itself (their Gen is the Gen its own call got
//     back) are skipped.
//   - close-to-open: Open compares the file's Gen with the Gen its cached
//     pages and attributes came from, keeps the pages (FOPEN_KEEP_CACHE)
//     only when they match, and drops stale attributes before the open
//     returns, so a program that opens a file after another node closed it
//     sees that node's data.
//   - the timeouts, which bound staleness should an event be lost.
//
// Reads and writes pass through whole: one FUSE request of up to 1 MiB
// (MaxWrite = ipc.MaxIO) is one FS message.
package fusefs

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/ipc/fsclient"
)

// Defaults of Options.
const (
	DefaultEntryTimeout    = time.Second
	DefaultAttrTimeout     = time.Second
	DefaultNegativeTimeout = 100 * time.Millisecond
	// DefaultReadAheadKB is the kernel readahead of the mount: large
	// enough that sequential reads arrive as 1 MiB requests, several in
	// flight.
	DefaultReadAheadKB = 4096
)

// FSType is the mount's type in /proc/self/mountinfo ("fuse." + Name);
// its source is "vos:" + the instance name.
const (
	FSType       = "fuse.vos"
	SourcePrefix = "vos:"
)

// Options tune a mount. Zero values take the defaults.
type Options struct {
	// Debug logs every FUSE request and reply (go-fuse's debug output).
	Debug bool
	// EntryTimeout, AttrTimeout and NegativeTimeout are how long the
	// kernel trusts a name, an inode's attributes, and a name's absence.
	// Zero means the default; a negative value turns that cache off.
	EntryTimeout    time.Duration
	AttrTimeout     time.Duration
	NegativeTimeout time.Duration
	// ReadAheadKB is the kernel readahead window (0: DefaultReadAheadKB;
	// negative: leave the kernel's 128 KiB).
	ReadAheadKB int
	// NoEvents mounts without subscribing to FS change events: caches
	// are then kept honest only by close-to-open and the timeouts. For
	// tests of close-to-open.
	NoEvents bool
	// Logger receives go-fuse's diagnostics (default: the log package's).
	Logger *log.Logger
	// Strict mounts with mount(2) only, never falling back to fusermount:
	// inside a new mount namespace a fallback would mount in the wrong one.
	Strict bool
	// Groups, if set, tells a caller's supplementary groups from its pid as
	// FUSE gives it, instead of /proc/PID/status: for a mount made in
	// another pid namespace (a pod's), whose pids the node's /proc does
	// not know.
	Groups func(pid uint32) []uint32
	// MountPoints are paths ("/proc", "/run/vos") presented as empty,
	// read-only folders where the instance's tree has nothing: a pod
	// mounts on them, and they never become part of the tree.
	MountPoints []string
}

func timeout(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Gateway is one mounted instance filesystem: the FUSE server of a mount.
type Gateway struct {
	inst string
	dir  string
	fs   *fsclient.Client // kernel caller; requests add the FUSE caller's Cred
	kern *fsclient.Client // as root
	srv  *fuse.Server
	root *node
	ev   *ipc.Service // nil with NoEvents
	ids  credCache

	mu    sync.Mutex
	nodes map[uint64]*node // the inodes the kernel knows, for events

	entMu    sync.Mutex
	expected map[entryKey]expectation // own entry changes whose events to skip

	mps       mountPoints
	done      chan struct{} // closed when the server has stopped
	closeOnce sync.Once
}

// Mount mounts instance inst's filesystem on dir, calling the FS server
// through c (a kernel connection: its calls may assert credentials). It
// returns once the kernel answers requests on dir.
func Mount(c *ipc.Conn, inst, dir string, opts Options) (*Gateway, error) {
	if err := ipc.CheckName("instance", inst); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("mount %s on %s: %w", inst, abs, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("mount %s on %s: not a directory", inst, abs)
	}
	if src, ok, _ := MountedAt(abs); ok && src != "" {
		return nil, fmt.Errorf("mount %s on %s: %s is already mounted there", inst, abs, src)
	}
	m, err := start(c, inst, abs, abs, opts)
	if err != nil {
		return nil, err
	}
	if ra := opts.ReadAheadKB; ra >= 0 {
		if ra == 0 {
			ra = DefaultReadAheadKB
		}
		if err := setReadAhead(abs, ra); err != nil && opts.Logger != nil {
			opts.Logger.Printf("vos mount %s: readahead not set: %v", abs, err)
		}
	}
	return m, nil
}

// Serve serves instance inst's filesystem on a FUSE connection someone
// else mounted (a pod's init, inside its user namespace) and handed over
// as fd. The gateway takes fd over; Close (or the connection's abort)
// ends it.
func Serve(c *ipc.Conn, inst string, fd *os.File, opts Options) (*Gateway, error) {
	if err := ipc.CheckName("instance", inst); err != nil {
		return nil, err
	}
	// go-fuse serves an already mounted connection named /dev/fd/N; it
	// owns (and closes) that number, so it gets a copy of its own.
	dup, err := syscall.Dup(int(fd.Fd()))
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", inst, err)
	}
	fd.Close()
	syscall.CloseOnExec(dup)
	m, err := start(c, inst, "/dev/fd/"+strconv.Itoa(dup), "pod:"+inst, opts)
	if err != nil {
		syscall.Close(dup)
		return nil, err
	}
	return m, nil
}

// start sets a gateway up and mounts (or takes over) mountpoint.
func start(c *ipc.Conn, inst, mountpoint, name string, opts Options) (*Gateway, error) {
	abs := name
	conn := c.WithCred(nil)
	if conn.RetryNoServer == 0 {
		// Hide a restart or move of the FS server from programs.
		conn.RetryNoServer = 10 * time.Second
	}
	fsc := fsclient.New(conn, inst)
	m := &Gateway{inst: inst, dir: abs, fs: fsc, kern: fsc.WithCred(&ipc.Root), nodes: map[uint64]*node{},
		expected: map[entryKey]expectation{}, done: make(chan struct{})}
	m.ids.init(opts.Groups)
	m.mps.init(opts.MountPoints)

	// The root must answer before anything is mounted: a mount whose
	// every request fails helps nobody.
	root, err := fsc.Getattr(context.Background(), ipc.RootIno)
	if err != nil {
		return nil, fmt.Errorf("mount %s on %s: the instance's filesystem does not answer: %w", inst, abs, err)
	}
	m.root = &node{m: m}
	m.root.seen(root)

	if !opts.NoEvents {
		// Subscribe before mounting, so that no change after the first
		// reply goes unnoticed.
		m.ev, err = ipc.ServeSubject(conn.NATS(), ipc.EventSubject(inst, ipc.FSEventTopic), "", m.event,
			ipc.ServeOptions{Workers: 1})
		if err != nil {
			return nil, fmt.Errorf("mount %s on %s: %w", inst, abs, err)
		}
	}

	entry := timeout(opts.EntryTimeout, DefaultEntryTimeout)
	attr := timeout(opts.AttrTimeout, DefaultAttrTimeout)
	neg := timeout(opts.NegativeTimeout, DefaultNegativeTimeout)
	fo := &fs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:        true, // confined processes run as other uids
			DirectMount:       true, // mount(2) ourselves: root, no fusermount
			DirectMountStrict: opts.Strict,
			MaxWrite:          ipc.MaxIO,
			// Many readahead and parallel requests in flight.
			MaxBackground: 64,
			FsName:        SourcePrefix + inst,
			Name:          "vos",
			Debug:         opts.Debug,
			Logger:        opts.Logger,
			// A plain readdir is one message per page; READDIRPLUS
			// would cost one lookup per entry even for a bare ls.
			DisableReadDirPlus:   true,
			EnableSymlinkCaching: true, // a symlink's target never changes
			// Replies are bytes in memory: splicing them through a pipe
			// only adds a copy (and 1 MiB replies overflow the pipe).
			DisableSplice: true,
			// O_TRUNC travels in the open, not as a separate setattr.
			ExtraCapabilities: fuse.CAP_ATOMIC_O_TRUNC,
		},
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NegativeTimeout: &neg,
		NullPermissions: true, // mode 0 is a mode, not "unset"
		// FUSE node ids are VOS inode numbers: events name inodes.
		ExternalNodeID: true,
		RootStableAttr: &fs.StableAttr{Ino: ipc.RootIno},
		Logger:         opts.Logger,
	}
	m.srv, err = fs.Mount(mountpoint, m.root, fo)
	if err != nil {
		m.stopEvents()
		return nil, fmt.Errorf("mount %s on %s: %w", inst, abs, err)
	}
	m.register(m.root) // only now: before the mount, it cannot be notified
	go func() {
		m.srv.Wait()
		m.stopEvents()
		close(m.done)
	}()
	return m, nil
}

// setReadAhead sets the readahead of the mount's backing device (FUSE
// mounts have one in /sys/class/bdi, named by the device numbers).
func setReadAhead(dir string, kb int) error {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return err
	}
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unixMajor(st.Dev), unixMinor(st.Dev))
	return os.WriteFile(p, []byte(fmt.Sprint(kb)), 0)
}

func unixMajor(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func unixMinor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }

// Dir is the mount point.
func (m *Gateway) Dir() string { return m.dir }

// Instance is the mounted instance.
func (m *Gateway) Instance() string { return m.inst }

// Unmount unmounts; it fails (EBUSY) while programs use the mount.
func (m *Gateway) Unmount() error {
	if err := m.srv.Unmount(); err != nil {
		return fmt.Errorf("unmount %s: %w", m.dir, err)
	}
	<-m.done
	return nil
}

// Wait returns when the mount is gone: unmounted by Unmount, by umount(8)
// or `vos umount`.
func (m *Gateway) Wait() { <-m.done }

// Close ends a gateway that Serve started: its connection is expected to
// be aborted or unmounted by its owner (the pod's end); Close stops the
// events and waits a little for the server to see the end.
func (m *Gateway) Close() {
	m.stopEvents()
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
	}
}

// SetGroups sets how callers' groups are found (see Options.Groups), for a
// gateway that serves before it can know (a pod's, while the pod is made).
func (m *Gateway) SetGroups(groups func(pid uint32) []uint32) { m.ids.setGroups(groups) }

// Done is closed when the mount is gone.
func (m *Gateway) Done() <-chan struct{} { return m.done }

func (m *Gateway) stopEvents() {
	m.closeOnce.Do(func() {
		if m.ev != nil {
			m.ev.Stop()
		}
	})
}

// as returns the FS client acting as the FUSE caller in ctx. Requests
// that need no permission and may come with no caller (close, statfs, and
// reads: the descriptor's access was decided at open) go through m.kern.
func (m *Gateway) as(ctx context.Context) *fsclient.Client { return m.fs.WithCred(m.ids.cred(ctx)) }

// noCancel is the context of every FS call, not the FUSE request's: a
// signal to the calling process interrupts its FUSE request (Go programs
// get SIGURG all the time), and abandoning a rename or create that the
// server may still carry out would turn a retry into a spurious EEXIST.
// The Conn's timeout bounds every call instead.
var noCancel = context.Background()

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return ipc.ToErrno(err).Syscall()
}

// register records a node the kernel now knows, so events can find it.
func (m *Gateway) register(n *node) {
	m.mu.Lock()
	m.nodes[n.ino()] = n
	m.mu.Unlock()
}

func (m *Gateway) forget(n *node) {
	m.mu.Lock()
	if m.nodes[n.ino()] == n {
		delete(m.nodes, n.ino())
	}
	m.mu.Unlock()
}

func (m *Gateway) lookupNode(ino uint64) *node {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nodes[ino]
}

// MountedAt tells whether dir is a VOS mount point, and of what source
// ("vos:NAME"), from /proc/self/mountinfo.
func MountedAt(dir string) (source string, ok bool, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, err
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", false, err
	}
	for _, mi := range parseMountinfo(string(data)) {
		if mi.point == abs && mi.fstype == FSType {
			source, ok = mi.source, true // the last one is on top
		}
	}
	return source, ok, nil
}
