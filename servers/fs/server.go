// Package fs is the FS server: one tree per instance, with directories,
// regular files, symbolic links, FIFOs, device nodes, sockets, hard links, modes, owners, times, POSIX
// rename and unlink semantics and Linux's permission checks.
//
// Metadata lives in memory and changes only through journal records (see
// state.go). File data lives in blocks of BlockSize bytes in a JetStream KV
// bucket of the instance, written before the metadata record that makes
// them visible, and cached in memory (data.go). A restarted or moved FS
// server rebuilds the tree from snapshot and journal and serves the same
// bytes.
//
// Lock order: an inode's I/O lock (ioLock) before the state lock.
package fs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// Options configure an FS server.
type Options struct {
	// Import is a host folder copied into the tree at first boot.
	Import string
	// Base, if set, is the base tree made at first boot after the import
	// (what the import lacks of it).
	Base *BaseTree
	// CacheBytes bounds the block cache (default 256 MiB).
	CacheBytes int64
	// Creds resolves a process caller's credentials; nil asks PM.
	Creds func(ctx context.Context, caller string) (*ipc.Cred, error)
}

// Server is the FS server.
type Server struct {
	opts Options
	st   *state
	srv  *srv.Server // set at Boot/Start

	openMu sync.Mutex
	opens  map[uint64]int // open count per inode (not journaled; see close)
	sortMu sync.Mutex     // fills directories' sorted-name caches under the read lock

	io     [64]sync.RWMutex // per-inode I/O locks, striped
	blocks *blockStore
	events *ipc.Conn
	inst   string
	creds  *credCache
}

// New returns an FS server.
func New(opts Options) *Server {
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 256 << 20
	}
	return &Server{opts: opts, st: newState(), opens: map[uint64]int{}}
}

// cred is the caller's credential: what the kernel asserts (root when it
// asserts nothing), or the process's own from PM.
func (s *Server) cred(c *srv.Call) (*ipc.Cred, error) {
	if c.Caller == ipc.CallerKernel {
		if c.Cred != nil {
			return c.Cred, nil
		}
		return &ipc.Root, nil
	}
	if s.opts.Creds != nil {
		return s.opts.Creds(context.Background(), c.Caller)
	}
	return s.creds.get(c.Caller)
}

func (s *Server) ioLock(ino uint64) *sync.RWMutex { return &s.io[ino%uint64(len(s.io))] }

// attach connects the server to its framework and block store.
func (s *Server) attach(sv *srv.Server) error {
	cfg := sv.Config()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bs, err := openBlocks(ctx, cfg.JS, cfg.Instance, cfg.Replicas, s.opts.CacheBytes)
	if err != nil {
		return err
	}
	s.srv, s.blocks, s.inst = sv, bs, cfg.Instance
	s.events = ipc.NewConn(cfg.Conn, ipc.CallerKernel)
	s.creds = newCredCache(s.events, cfg.Instance)
	return nil
}

// Open attaches the block store (srv.Opener).
func (s *Server) Open(sv *srv.Server) error { return s.attach(sv) }

// Boot creates the root directory and imports the manifest's folder.
// Precondition (srv.Booter): the state lock is held.
func (s *Server) Boot(sv *srv.Server) error {
	now := time.Now().UnixNano()
	if err := sv.Commit(recCreate, &createRec{Ino: ipc.RootIno, Mode: ipc.S_IFDIR | 0o755, Time: now, Version: stateVersion}); err != nil {
		return err
	}
	if s.opts.Import != "" {
		if err := s.importTree(s.opts.Import); err != nil {
			return err
		}
	}
	if s.opts.Base != nil {
		return s.makeBaseTree(s.opts.Base)
	}
	return nil
}

// Start finishes what a crash interrupted: block ranges still to clear.
func (s *Server) Start(sv *srv.Server) error {
	sv.RLock()
	todo := make([]pending, 0, len(s.st.Pending))
	for _, p := range s.st.Pending {
		todo = append(todo, p)
	}
	sv.RUnlock()
	for _, p := range todo {
		if err := s.clear(p); err != nil {
			return fmt.Errorf("clear blocks of inode %d: %w", p.Ino, err)
		}
	}
	return nil
}

// Table is FS's dispatch table.
func (s *Server) Table() *srv.Table {
	t := srv.NewTable(ipc.RoleFS)
	srv.Handle(t, ipc.OpFSLookup, srv.Process, srv.Supported, "", s.lookup)
	srv.Handle(t, ipc.OpFSGetattr, srv.Process, srv.Supported, "", s.getattr)
	srv.Handle(t, ipc.OpFSSetattr, srv.Process, srv.Supported, "", s.setattr)
	srv.Handle(t, ipc.OpFSOpen, srv.Process, srv.Partial,
		"a FIFO: EOPNOTSUPP (its I/O is the kernel's, through the mount); a device: EACCES (nodev); a socket: ENXIO", s.open)
	srv.Handle(t, ipc.OpFSClose, srv.Process, srv.Supported, "", s.close)
	srv.Handle(t, ipc.OpFSRead, srv.Process, srv.Supported, "", s.read)
	srv.Handle(t, ipc.OpFSWrite, srv.Process, srv.Supported, "", s.write)
	srv.Handle(t, ipc.OpFSMkdir, srv.Process, srv.Supported, "", s.mkdir)
	srv.Handle(t, ipc.OpFSSymlink, srv.Process, srv.Supported, "", s.symlink)
	srv.Handle(t, ipc.OpFSReadlink, srv.Process, srv.Supported, "", s.readlink)
	srv.Handle(t, ipc.OpFSUnlink, srv.Process, srv.Supported, "", s.unlink)
	srv.Handle(t, ipc.OpFSRmdir, srv.Process, srv.Supported, "", s.rmdir)
	srv.Handle(t, ipc.OpFSRename, srv.Process, srv.Partial, "RENAME_WHITEOUT is not supported", s.rename)
	srv.Handle(t, ipc.OpFSLink, srv.Process, srv.Supported, "", s.link)
	srv.Handle(t, ipc.OpFSReaddir, srv.Process, srv.Supported, "", s.readdir)
	srv.Handle(t, ipc.OpFSStatfs, srv.Process, srv.Partial, "capacity is nominal unless JetStream has a storage limit", s.statfs)
	srv.Handle(t, ipc.OpFSAccess, srv.Process, srv.Supported, "", s.access)
	srv.Handle(t, ipc.OpFSFsync, srv.Process, srv.Supported, "every reply is durable already", s.fsync)
	const xattrNote = "user.*, trusted.* (root only), security.* (root sets); system.* (POSIX ACLs) and others: EOPNOTSUPP"
	srv.Handle(t, ipc.OpFSGetxattr, srv.Process, srv.Partial, xattrNote, s.getxattr)
	srv.Handle(t, ipc.OpFSSetxattr, srv.Process, srv.Partial, xattrNote, s.setxattr)
	srv.Handle(t, ipc.OpFSListxattr, srv.Process, srv.Supported, "trusted.* listed to root only", s.listxattr)
	srv.Handle(t, ipc.OpFSRemovexattr, srv.Process, srv.Partial, xattrNote, s.removexattr)
	srv.Handle(t, ipc.OpFSFallocate, srv.Process, srv.Partial,
		"modes 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE; ZERO_RANGE, COLLAPSE_RANGE, INSERT_RANGE, UNSHARE_RANGE: EOPNOTSUPP", s.fallocate)
	srv.Handle(t, ipc.OpFSMknod, srv.Process, srv.Supported, "device nodes are stored with their numbers, never opened (nodev)", s.mknod)
	return t
}

// Snapshot implements srv.State.
func (s *Server) Snapshot() ([]byte, error) { return ipc.Encode(s.st) }

// Restore implements srv.State.
func (s *Server) Restore(data []byte) error {
	st := newState()
	if err := ipc.Decode(data, st); err != nil {
		return err
	}
	if st.Inodes == nil {
		st.Inodes = map[uint64]*inode{}
	}
	if st.Pending == nil {
		st.Pending = map[uint64]pending{}
	}
	for _, in := range st.Inodes {
		if st.Version == 0 && in.isReg() && in.Stored == nil && in.Size > 0 {
			in.markDense(0, in.Size) // made before blocks were recorded
		}
		in.recount()
	}
	s.st = st
	return nil
}

// Size implements srv.State.
func (s *Server) Size() int64 {
	n := int64(len(s.st.Inodes)) * 160
	for _, in := range s.st.Inodes {
		n += int64(len(in.Entries))*48 + int64(len(in.Target)) + int64(in.xattrBytes())
	}
	return n
}

// Extra implements srv.Extraer.
func (s *Server) Extra() map[string]int64 {
	var files, dirs int64
	for _, in := range s.st.Inodes {
		switch {
		case in.isDir():
			dirs++
		case in.isReg():
			files++
		}
	}
	s.openMu.Lock()
	open := int64(len(s.opens))
	s.openMu.Unlock()
	x := map[string]int64{"inodes": int64(len(s.st.Inodes)), "files": files, "dirs": dirs, "open": open,
		"pending_clears": int64(len(s.st.Pending))}
	if s.blocks != nil {
		x["cache_bytes"] = s.blocks.cached()
	}
	return x
}

// notify tells other nodes' caches what changed.
func (s *Server) notify(kind uint8, in *inode, name string) {
	if s.events == nil || in == nil {
		return
	}
	_ = s.events.Notify(ipc.EventSubject(s.inst, ipc.FSEventTopic), ipc.OpFSEvent,
		&ipc.FSEvent{Kind: kind, Ino: in.Ino, Gen: in.Gen, Name: name})
}
