package fusefs

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/vos-os/vos/ipc"
)

// dirHandle is an open directory. It is opened on the server (which
// checks read permission and keeps a removed directory's inode while it
// is open), and lists it in pages as the kernel reads, remembering what
// it fetched so that telldir/seekdir offsets (the entry's index + 1, with
// "." and ".." first) stay valid while it is open.
type dirHandle struct {
	n *node

	mu      sync.Mutex
	ents    []fuse.DirEntry
	after   string // the last name fetched
	done    bool   // the server has no more
	pos     int    // next entry to return
	fetched bool
}

var (
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
	_ = (fs.FileReleasedirer)((*dirHandle)(nil))
	_ = (fs.FileFsyncdirer)((*dirHandle)(nil))
)

// OpendirHandle opens the directory on the server as the caller.
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if _, err := n.m.as(ctx).Open(noCancel, &ipc.FSOpenReq{At: n.ino(), Flags: ipc.O_RDONLY | ipc.O_DIRECTORY}); err != nil {
		return nil, 0, errno(err)
	}
	return &dirHandle{n: n}, 0, 0
}

// start begins (or, on rewind, begins again) a listing: "." and "..".
func (d *dirHandle) start() {
	parent := d.n.ino()
	if _, p := d.n.Parent(); p != nil {
		parent = p.StableAttr().Ino
	}
	d.ents = append(d.ents[:0],
		fuse.DirEntry{Name: ".", Ino: d.n.ino(), Mode: syscall.S_IFDIR},
		fuse.DirEntry{Name: "..", Ino: parent, Mode: syscall.S_IFDIR})
	d.after, d.done, d.pos, d.fetched = "", false, 0, true
}

// fetch gets the next page from the server.
// Precondition: d.mu is held.
func (d *dirHandle) fetch(ctx context.Context) syscall.Errno {
	rep, err := d.n.m.as(ctx).Readdir(noCancel, d.n.ino(), "", d.after)
	if err != nil {
		return errno(err)
	}
	for _, de := range rep.Entries {
		d.ents = append(d.ents, fuse.DirEntry{Name: de.Name, Ino: de.Ino, Mode: de.Mode & ipc.S_IFMT})
	}
	if len(rep.Entries) > 0 {
		d.after = rep.Entries[len(rep.Entries)-1].Name
	}
	// A page with nothing in it ends the listing even without Done, so
	// that a confused server cannot make us loop.
	d.done = rep.Done || len(rep.Entries) == 0
	return 0
}

// Readdirent returns the next entry, fetching a page when needed.
func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.fetched {
		d.start()
	}
	for d.pos >= len(d.ents) {
		if d.done {
			return nil, 0
		}
		if e := d.fetch(ctx); e != 0 {
			return nil, e
		}
	}
	de := d.ents[d.pos]
	d.pos++
	de.Off = uint64(d.pos)
	return &de, 0
}

// Seekdir moves to an offset Readdirent handed out; 0 lists afresh.
func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	d.mu.Lock()
	defer d.mu.Unlock()
	if off == 0 || !d.fetched {
		d.start()
	}
	for int(off) > len(d.ents) && !d.done {
		if e := d.fetch(ctx); e != 0 {
			return e
		}
	}
	if int(off) > len(d.ents) {
		return syscall.EINVAL
	}
	d.pos = int(off)
	return 0
}

// Releasedir ends the server's open of the directory.
func (d *dirHandle) Releasedir(ctx context.Context, flags uint32) { d.n.m.close(d.n.ino()) }

// Fsyncdir makes the directory durable.
func (d *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	return errno(d.n.m.kern.Fsync(noCancel, d.n.ino()))
}
