package fs

import (
	"sort"

	"github.com/vos-os/vos/ipc"
)

// inode is one file, directory, symbolic link, FIFO, device or socket. Its exported fields are
// the journaled state (snapshots encode them); the others are caches.
type inode struct {
	Ino     uint64
	Mode    uint32 // type and permission bits
	UID     uint32
	GID     uint32
	Nlink   uint32
	Size    int64
	Atime   int64
	Mtime   int64
	Ctime   int64
	Gen     uint64
	Target  string            `msgpack:",omitempty"` // symbolic link
	Rdev    uint64            `msgpack:",omitempty"` // device node: its number
	Entries map[string]uint64 `msgpack:",omitempty"` // directory: name -> inode
	Parent  uint64            `msgpack:",omitempty"` // directory: its ".."
	Xattrs  map[string][]byte `msgpack:",omitempty"` // extended attributes
	// Stored says which blocks of a regular file the block store holds,
	// and how many bytes each: what st_blocks counts.
	Stored map[uint64]uint32 `msgpack:",omitempty"`

	sorted []string // directory names in order; nil when stale
	alloc  int64    // Stored in allocation units, in bytes (see allocated)
}

func (in *inode) isDir() bool  { return in.Mode&ipc.S_IFMT == ipc.S_IFDIR }
func (in *inode) isReg() bool  { return in.Mode&ipc.S_IFMT == ipc.S_IFREG }
func (in *inode) isLink() bool { return in.Mode&ipc.S_IFMT == ipc.S_IFLNK }

func (in *inode) attr() ipc.Attr {
	return ipc.Attr{
		Ino: in.Ino, Mode: in.Mode, Nlink: in.Nlink, UID: in.UID, GID: in.GID,
		Size: in.Size, Blocks: in.alloc / 512, Rdev: in.Rdev,
		Atime: in.Atime, Mtime: in.Mtime, Ctime: in.Ctime, Gen: in.Gen,
	}
}

// AllocUnit is the unit st_blocks counts a stored block's bytes in: the
// block size statfs reports. A file's blocks hold only the bytes written or
// allocated (a small file's only block is small), so a stored block counts
// its bytes rounded up to this unit; holes count nothing.
const AllocUnit = 4096

func allocated(n uint32) int64 { return (int64(n) + AllocUnit - 1) / AllocUnit * AllocUnit }

// setStored records that block blk holds n bytes (none: it is gone).
func (in *inode) setStored(blk uint64, n uint32) {
	if old, ok := in.Stored[blk]; ok {
		in.alloc -= allocated(old)
		delete(in.Stored, blk)
	}
	if n == 0 {
		if len(in.Stored) == 0 {
			in.Stored = nil
		}
		return
	}
	if in.Stored == nil {
		in.Stored = map[uint64]uint32{}
	}
	in.Stored[blk] = n
	in.alloc += allocated(n)
}

// storedEnd is the offset after the last stored byte.
func (in *inode) storedEnd() int64 {
	var end int64
	for blk, n := range in.Stored {
		end = max(end, int64(blk)*BlockSize+int64(n))
	}
	return end
}

// cutStored forgets what the store holds at or past size.
func (in *inode) cutStored(size int64) {
	for blk, n := range in.Stored {
		if start := int64(blk) * BlockSize; start+int64(n) > size {
			in.setStored(blk, uint32(max(size-start, 0)))
		}
	}
}

// markDense records [from, to) as stored: what records made before
// blocks were recorded (state version 0) wrote.
func (in *inode) markDense(from, to int64) {
	for blk := uint64(from / BlockSize); int64(blk)*BlockSize < to; blk++ {
		n := uint32(min(to-int64(blk)*BlockSize, BlockSize))
		in.setStored(blk, max(n, in.Stored[blk]))
	}
}

// recount recomputes the allocation cache (after a snapshot's decode).
func (in *inode) recount() {
	in.alloc = 0
	for _, n := range in.Stored {
		in.alloc += allocated(n)
	}
}

// names returns the directory's names in order, sorting once per change.
func (in *inode) names() []string {
	if in.sorted == nil {
		in.sorted = make([]string, 0, len(in.Entries))
		for n := range in.Entries {
			in.sorted = append(in.sorted, n)
		}
		sort.Strings(in.sorted)
	}
	return in.sorted
}

// setEntry links name to ino in the directory.
func (in *inode) setEntry(name string, ino uint64) {
	if in.Entries == nil {
		in.Entries = map[string]uint64{}
	}
	if _, ok := in.Entries[name]; !ok {
		in.sorted = nil
	}
	in.Entries[name] = ino
}

func (in *inode) delEntry(name string) {
	delete(in.Entries, name)
	in.sorted = nil
}

// can tells whether cred may access the inode with want (a mask of R_OK,
// W_OK, X_OK), by owner, group and others bits, as Linux decides it.
// Root passes everything but executing a file that has no x bit at all.
func can(cred *ipc.Cred, in *inode, want uint32) bool {
	if cred.UID == 0 {
		if want&ipc.X_OK != 0 && !in.isDir() && in.Mode&0o111 == 0 {
			return false
		}
		return true
	}
	var bits uint32
	switch {
	case cred.UID == in.UID:
		bits = in.Mode >> 6 & 7
	case cred.InGroup(in.GID):
		bits = in.Mode >> 3 & 7
	default:
		bits = in.Mode & 7
	}
	return bits&want == want
}

// stickyForbids tells whether the sticky bit of dir stops cred from
// removing or renaming victim: only root and the owners of the file or the
// directory may.
func stickyForbids(cred *ipc.Cred, dir, victim *inode) bool {
	return dir.Mode&ipc.S_ISVTX != 0 && cred.UID != 0 && cred.UID != dir.UID && cred.UID != victim.UID
}
