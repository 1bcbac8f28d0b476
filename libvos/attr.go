package libvos

import (
	"time"

	"github.com/vos-os/vos/ipc"
)

// Attr is a file's attributes, in the shape of syscall.Stat_t: what the
// FileInfos of libvos return from Sys (as *Attr), for the inode number,
// link count, owner and times that fs.FileInfo does not carry.
type Attr struct {
	Ino    uint64
	Mode   uint32 // st_mode: type and permission bits (ModeFromLinux converts)
	Nlink  uint32
	UID    uint32
	GID    uint32
	Rdev   uint64 // a device node's number (as syscall.Stat_t's), else 0
	Size   int64
	Blocks int64 // 512-byte blocks allocated
	Atime  time.Time
	Mtime  time.Time
	Ctime  time.Time
}

// attrOf is the FS server's answer as libvos shows it. ipc.Attr's Gen is
// a cache's business (the FUSE gateway's), not a program's.
func attrOf(a *ipc.Attr) Attr {
	return Attr{Ino: a.Ino, Mode: a.Mode, Nlink: a.Nlink, UID: a.UID, GID: a.GID,
		Size: a.Size, Blocks: a.Blocks, Rdev: a.Rdev,
		Atime: time.Unix(0, a.Atime), Mtime: time.Unix(0, a.Mtime), Ctime: time.Unix(0, a.Ctime)}
}

// FSStat is statfs(2)'s answer for the instance's filesystem.
type FSStat struct {
	Bsize   int64  // the block size the counts are in
	Blocks  uint64 // total blocks
	Bfree   uint64 // free blocks
	Files   uint64 // total inodes
	Ffree   uint64 // free inodes
	NameMax uint32 // the longest name, in bytes
}
