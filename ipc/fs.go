package ipc

import "github.com/vmihailenco/msgpack/v5"

// FS ops: one tree per instance. Files are named as openat(2) names them:
// a Path resolved from directory At (RootIno when 0; an absolute Path starts
// at the root whatever At is; an empty Path is At itself). libvos sends whole
// paths in one message; the FUSE gateway sends (parent inode, one name).
const (
	OpFSLookup   Op = BaseFS + 1
	OpFSGetattr  Op = BaseFS + 2
	OpFSSetattr  Op = BaseFS + 3
	OpFSOpen     Op = BaseFS + 4
	OpFSClose    Op = BaseFS + 5
	OpFSRead     Op = BaseFS + 6
	OpFSWrite    Op = BaseFS + 7
	OpFSMkdir    Op = BaseFS + 8
	OpFSSymlink  Op = BaseFS + 9
	OpFSReadlink Op = BaseFS + 10
	OpFSUnlink   Op = BaseFS + 11
	OpFSRmdir    Op = BaseFS + 12
	OpFSRename   Op = BaseFS + 13
	OpFSLink     Op = BaseFS + 14
	OpFSReaddir  Op = BaseFS + 15
	OpFSStatfs   Op = BaseFS + 16
	OpFSAccess   Op = BaseFS + 17
	OpFSFsync    Op = BaseFS + 18
	OpFSMknod    Op = BaseFS + 19
	// Extended attributes.
	OpFSGetxattr    Op = BaseFS + 20
	OpFSSetxattr    Op = BaseFS + 21
	OpFSListxattr   Op = BaseFS + 22
	OpFSRemovexattr Op = BaseFS + 23
	OpFSFallocate   Op = BaseFS + 24
	// OpFSEvent is the notification FS publishes on EventSubject(inst,
	// FSEventTopic) after every change, for caches on other nodes.
	OpFSEvent Op = BaseFS + 0x40
)

// FSEventTopic is the event topic of FS changes.
const FSEventTopic = "fs"

func init() {
	mustRegister(
		Def{OpFSLookup, "fs.lookup", FSLookupReq{}, FSAttrRep{}},
		Def{OpFSGetattr, "fs.getattr", FSGetattrReq{}, FSAttrRep{}},
		Def{OpFSSetattr, "fs.setattr", FSSetattrReq{}, FSAttrRep{}},
		Def{OpFSOpen, "fs.open", FSOpenReq{}, FSOpenRep{}},
		Def{OpFSClose, "fs.close", FSCloseReq{}, FSEmpty{}},
		Def{OpFSRead, "fs.read", FSReadReq{}, FSReadRep{}},
		Def{OpFSWrite, "fs.write", FSWriteReq{}, FSWriteRep{}},
		Def{OpFSMkdir, "fs.mkdir", FSMkdirReq{}, FSAttrRep{}},
		Def{OpFSSymlink, "fs.symlink", FSSymlinkReq{}, FSAttrRep{}},
		Def{OpFSReadlink, "fs.readlink", FSReadlinkReq{}, FSReadlinkRep{}},
		Def{OpFSUnlink, "fs.unlink", FSUnlinkReq{}, FSEmpty{}},
		Def{OpFSRmdir, "fs.rmdir", FSRmdirReq{}, FSEmpty{}},
		Def{OpFSRename, "fs.rename", FSRenameReq{}, FSEmpty{}},
		Def{OpFSLink, "fs.link", FSLinkReq{}, FSAttrRep{}},
		Def{OpFSReaddir, "fs.readdir", FSReaddirReq{}, FSReaddirRep{}},
		Def{OpFSStatfs, "fs.statfs", FSStatfsReq{}, FSStatfsRep{}},
		Def{OpFSAccess, "fs.access", FSAccessReq{}, FSEmpty{}},
		Def{OpFSFsync, "fs.fsync", FSFsyncReq{}, FSEmpty{}},
		Def{OpFSMknod, "fs.mknod", FSMknodReq{}, FSAttrRep{}},
		Def{OpFSGetxattr, "fs.getxattr", FSGetxattrReq{}, FSGetxattrRep{}},
		Def{OpFSSetxattr, "fs.setxattr", FSSetxattrReq{}, FSAttrRep{}},
		Def{OpFSListxattr, "fs.listxattr", FSListxattrReq{}, FSListxattrRep{}},
		Def{OpFSRemovexattr, "fs.removexattr", FSRemovexattrReq{}, FSAttrRep{}},
		Def{OpFSFallocate, "fs.fallocate", FSFallocateReq{}, FSAttrRep{}},
		Def{OpFSEvent, "fs.event", FSEvent{}, FSEmpty{}},
	)
}

// RootIno is the inode of the instance's root directory.
const RootIno uint64 = 1

// Limits, as Linux's.
const (
	PathMax = 4096 // bytes in a path
	NameMax = 255  // bytes in one name
	// MaxIO is the most data one read or write message carries; larger
	// I/O is split into MaxIO chunks sent concurrently.
	MaxIO = 1 << 20
	// XattrNameMax and XattrSizeMax bound an extended attribute's name
	// (ERANGE past it) and value (E2BIG), as Linux's XATTR_NAME_MAX and
	// XATTR_SIZE_MAX.
	XattrNameMax = 255
	XattrSizeMax = 64 << 10
)

// Mode bits, as stat's st_mode.
const (
	S_IFMT   uint32 = 0o170000
	S_IFSOCK uint32 = 0o140000
	S_IFLNK  uint32 = 0o120000
	S_IFREG  uint32 = 0o100000
	S_IFBLK  uint32 = 0o060000
	S_IFDIR  uint32 = 0o040000
	S_IFCHR  uint32 = 0o020000
	S_IFIFO  uint32 = 0o010000
	S_ISUID  uint32 = 0o4000
	S_ISGID  uint32 = 0o2000
	S_ISVTX  uint32 = 0o1000
)

// Open flags, with Linux's values.
const (
	O_RDONLY    = 0x0
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_ACCMODE   = 0x3
	O_CREAT     = 0x40
	O_EXCL      = 0x80
	O_TRUNC     = 0x200
	O_APPEND    = 0x400
	O_DIRECTORY = 0x10000
	O_NOFOLLOW  = 0x20000
)

// Access masks (access(2)).
const (
	F_OK = 0
	X_OK = 1
	W_OK = 2
	R_OK = 4
)

// Attr is an inode's attributes.
type Attr struct {
	Ino    uint64
	Mode   uint32 // type and permission bits
	Nlink  uint32
	UID    uint32
	GID    uint32
	Size   int64
	Blocks int64  // 512-byte blocks allocated
	Rdev   uint64 // a device node's number (st_rdev's encoding), else 0
	Atime  int64  // Unix nanoseconds
	Mtime  int64
	Ctime  int64
	Gen    uint64 // bumped by every change of the inode (data, attributes, entries)
}

// IsDir tells whether the inode is a directory.
func (a *Attr) IsDir() bool { return a.Mode&S_IFMT == S_IFDIR }

// FSEmpty is the reply of ops that return nothing.
type FSEmpty struct{}

// FSAttrRep carries one inode's attributes.
type FSAttrRep struct{ Attr Attr }

// FSLookupReq resolves a name (stat, or lstat with NoFollow).
type FSLookupReq struct {
	At       uint64
	Path     string
	NoFollow bool
}

// FSGetattrReq reads an inode's attributes.
type FSGetattrReq struct{ Ino uint64 }

// FSFsyncReq makes an inode's data durable.
type FSFsyncReq struct{ Ino uint64 }

// Setattr Valid bits say which fields of FSSetattrReq apply.
const (
	SetMode uint32 = 1 << iota
	SetUID
	SetGID
	SetSize
	SetAtime
	SetMtime
	SetAtimeNow
	SetMtimeNow
)

// FSSetattrReq changes attributes (chmod, chown, truncate, utimes) of the
// inode Ino, or of At/Path when Ino is 0.
type FSSetattrReq struct {
	Ino      uint64
	At       uint64
	Path     string
	NoFollow bool
	Valid    uint32
	Mode     uint32 // permission bits only
	UID      uint32
	GID      uint32
	Size     int64
	Atime    int64
	Mtime    int64
}

// FSOpenReq opens (and with O_CREAT maybe creates) a file. Mode is the
// new file's permission bits, already masked by the caller's umask. The
// server counts the open until FSCloseReq, so an unlinked file stays
// readable while open.
type FSOpenReq struct {
	At    uint64
	Path  string
	Flags int
	Mode  uint32
}

// FSOpenRep is the opened file.
type FSOpenRep struct {
	Attr    Attr
	Created bool
}

// FSCloseReq ends one open of Ino.
type FSCloseReq struct{ Ino uint64 }

// FSReadReq reads up to Len bytes (at most MaxIO) at Off.
type FSReadReq struct {
	Ino uint64
	Off int64
	Len int
}

// FSReadRep holds the bytes read; fewer than asked only at end of file.
type FSReadRep struct {
	Data []byte
	Size int64 // the file's size when read
	// Parts, when set, are Data in pieces (a server's cached blocks),
	// encoded as one Data without being joined first: a copy saved on
	// every read.
	Parts [][]byte `msgpack:"-"`
}

// EncodeMsgpack writes what the default encoding writes (a map of Data and
// Size), taking Data from Parts when they are set.
func (r *FSReadRep) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(2); err != nil {
		return err
	}
	if err := enc.EncodeString("Data"); err != nil {
		return err
	}
	if r.Parts == nil {
		if err := enc.EncodeBytes(r.Data); err != nil {
			return err
		}
	} else {
		n := 0
		for _, p := range r.Parts {
			n += len(p)
		}
		if err := enc.EncodeBytesLen(n); err != nil {
			return err
		}
		for _, p := range r.Parts {
			if _, err := enc.Writer().Write(p); err != nil {
				return err
			}
		}
	}
	if err := enc.EncodeString("Size"); err != nil {
		return err
	}
	return enc.EncodeInt(r.Size)
}

// FSWriteReq writes Data (at most MaxIO bytes) at Off, or at the end of the
// file with Append.
type FSWriteReq struct {
	Ino    uint64
	Off    int64
	Data   []byte
	Append bool
}

// FSWriteRep says how much was written and the attributes after it.
type FSWriteRep struct {
	N    int
	Attr Attr
}

// Fallocate modes, as Linux's. FS does mode 0 (allocate, extending the
// size), FallocKeepSize (allocate past the end) and
// FallocPunchHole|FallocKeepSize (zero a range, freeing whole blocks);
// other modes say EOPNOTSUPP.
const (
	FallocKeepSize  uint32 = 0x01
	FallocPunchHole uint32 = 0x02
)

// FSFallocateReq is fallocate(2) of Len bytes at Off of the file Ino.
type FSFallocateReq struct {
	Ino  uint64
	Mode uint32
	Off  int64
	Len  int64
}

// FSMkdirReq creates a directory; Mode is masked by the caller's umask.
type FSMkdirReq struct {
	At   uint64
	Path string
	Mode uint32
}

// FSSymlinkReq creates a symbolic link at Path pointing to Target.
type FSSymlinkReq struct {
	At     uint64
	Path   string
	Target string
}

// FSMknodReq creates a node that is not a directory or a symbolic link
// (mknod(2)): a FIFO, a character or block device, a UNIX socket or a
// regular file (no type bits). Mode holds the type and the permission bits,
// already masked by the caller's umask; Rdev is a device's number
// (st_rdev's encoding), ignored for other types. Device nodes are only
// stored, never opened as devices (every mount of the tree is nodev); only
// root may make them, as on Linux.
type FSMknodReq struct {
	At   uint64
	Path string
	Mode uint32
	Rdev uint64
}

// FSNode names an inode: Ino, or At/Path when Ino is 0 (a final symbolic
// link followed unless NoFollow).
type FSNode struct {
	Ino      uint64
	At       uint64
	Path     string
	NoFollow bool
}

// Setxattr flags, as Linux's.
const (
	XattrCreate  uint32 = 1 // fail with EEXIST if the attribute exists
	XattrReplace uint32 = 2 // fail with ENODATA if it does not
)

// FSGetxattrReq reads the extended attribute Name (with its namespace:
// "user.", "trusted.", "security.") of a node.
type FSGetxattrReq struct {
	FSNode
	Name string
}

// FSGetxattrRep is the attribute's whole value.
type FSGetxattrRep struct{ Value []byte }

// FSSetxattrReq sets an extended attribute; Flags are XattrCreate or
// XattrReplace (0: either).
type FSSetxattrReq struct {
	FSNode
	Name  string
	Value []byte
	Flags uint32
}

// FSListxattrReq lists a node's extended attributes the caller may see.
type FSListxattrReq struct{ FSNode }

// FSListxattrRep holds the names, in order.
type FSListxattrRep struct{ Names []string }

// FSRemovexattrReq removes an extended attribute.
type FSRemovexattrReq struct {
	FSNode
	Name string
}

// FSReadlinkReq reads a symbolic link.
type FSReadlinkReq struct {
	At   uint64
	Path string
}

// FSReadlinkRep is the link's target.
type FSReadlinkRep struct{ Target string }

// FSUnlinkReq removes a name that is not a directory.
type FSUnlinkReq struct {
	At   uint64
	Path string
}

// FSRmdirReq removes an empty directory.
type FSRmdirReq struct {
	At   uint64
	Path string
}

// Rename flags, as renameat2's.
const (
	RenameNoReplace uint32 = 1
	RenameExchange  uint32 = 2
)

// FSRenameReq renames OldAt/OldPath to NewAt/NewPath.
type FSRenameReq struct {
	OldAt   uint64
	OldPath string
	NewAt   uint64
	NewPath string
	Flags   uint32
}

// FSLinkReq makes NewAt/NewPath a hard link to OldAt/OldPath.
type FSLinkReq struct {
	OldAt   uint64
	OldPath string
	NewAt   uint64
	NewPath string
}

// FSReaddirReq lists a directory in name order, starting after the name
// After ("" for the start), at most Max entries (0: as many as fit in one
// message).
type FSReaddirReq struct {
	At    uint64
	Path  string
	After string
	Max   int
}

// Dirent is one directory entry.
type Dirent struct {
	Name string
	Ino  uint64
	Mode uint32 // type bits only
}

// FSReaddirRep is one page of entries ("." and ".." are not listed); Done
// says there are no more.
type FSReaddirRep struct {
	Entries []Dirent
	Done    bool
}

// FSStatfsReq asks for the filesystem's totals.
type FSStatfsReq struct{}

// FSStatfsRep is statfs(2)'s answer.
type FSStatfsRep struct {
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Files   uint64
	Ffree   uint64
	NameMax uint32
}

// FSAccessReq checks the caller's access (R_OK|W_OK|X_OK, or F_OK).
type FSAccessReq struct {
	At   uint64
	Path string
	Mask uint32
}

// Kinds of FSEvent.
const (
	FSEventData  uint8 = 1 // file contents changed
	FSEventAttr  uint8 = 2 // attributes changed
	FSEventEntry uint8 = 3 // Name in directory Ino appeared, vanished or changed
)

// FSEvent says that something changed. Gen is the inode's generation after
// the change, so a cache that made the change itself (and saw that Gen in
// its reply) can skip it.
type FSEvent struct {
	Kind uint8
	Ino  uint64
	Gen  uint64
	Name string
}
