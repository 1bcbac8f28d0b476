package libvos

import (
	"io/fs"
	"time"

	"github.com/vos-os/vos/ipc"
)

// permBits is the Linux form of m's permission bits with setuid, setgid
// and sticky: what chmod, open and mkdir take.
func permBits(m fs.FileMode) uint32 {
	b := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		b |= ipc.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		b |= ipc.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		b |= ipc.S_ISVTX
	}
	return b
}

// ModeToLinux converts an fs.FileMode to st_mode bits: type and
// permissions, setuid, setgid and sticky. A mode without type bits is a
// regular file.
func ModeToLinux(m fs.FileMode) uint32 {
	b := permBits(m)
	switch {
	case m&fs.ModeDir != 0:
		b |= ipc.S_IFDIR
	case m&fs.ModeSymlink != 0:
		b |= ipc.S_IFLNK
	case m&fs.ModeNamedPipe != 0:
		b |= ipc.S_IFIFO
	case m&fs.ModeSocket != 0:
		b |= ipc.S_IFSOCK
	case m&fs.ModeCharDevice != 0:
		b |= ipc.S_IFCHR
	case m&fs.ModeDevice != 0:
		b |= ipc.S_IFBLK
	default:
		b |= ipc.S_IFREG
	}
	return b
}

// ModeFromLinux converts st_mode bits to an fs.FileMode, as the os package
// does for stat's answer.
func ModeFromLinux(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	switch mode & ipc.S_IFMT {
	case ipc.S_IFDIR:
		m |= fs.ModeDir
	case ipc.S_IFLNK:
		m |= fs.ModeSymlink
	case ipc.S_IFIFO:
		m |= fs.ModeNamedPipe
	case ipc.S_IFSOCK:
		m |= fs.ModeSocket
	case ipc.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case ipc.S_IFBLK:
		m |= fs.ModeDevice
	}
	if mode&ipc.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if mode&ipc.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if mode&ipc.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// fileInfo is an fs.FileInfo made from an inode's attributes.
type fileInfo struct {
	name string
	attr Attr
}

func newFileInfo(name string, a *ipc.Attr) *fileInfo { return &fileInfo{name: name, attr: attrOf(a)} }

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.attr.Size }
func (fi *fileInfo) Mode() fs.FileMode  { return ModeFromLinux(fi.attr.Mode) }
func (fi *fileInfo) ModTime() time.Time { return fi.attr.Mtime }
func (fi *fileInfo) IsDir() bool        { return fi.attr.Mode&ipc.S_IFMT == ipc.S_IFDIR }

// Sys returns the *Attr: inode, links, owner, times.
func (fi *fileInfo) Sys() any { return &fi.attr }

func (fi *fileInfo) String() string { return fs.FormatFileInfo(fi) }

// dirEntry is one entry of a directory listing. Info looks the entry up
// again, without following a symlink, as os does: at At/Path, where Path is
// the listed directory's path (from At) joined with the name.
type dirEntry struct {
	o    *OS
	at   uint64
	path string
	name string // how errors name the entry
	d    ipc.Dirent
}

func (e *dirEntry) Name() string      { return e.d.Name }
func (e *dirEntry) IsDir() bool       { return e.d.Mode&ipc.S_IFMT == ipc.S_IFDIR }
func (e *dirEntry) Type() fs.FileMode { return ModeFromLinux(e.d.Mode & ipc.S_IFMT).Type() }

func (e *dirEntry) Info() (fs.FileInfo, error) {
	var rep ipc.FSAttrRep
	if err := e.o.call(ipc.OpFSLookup, &ipc.FSLookupReq{At: e.at, Path: e.path, NoFollow: true}, &rep); err != nil {
		return nil, pathErr("lstat", e.name, err)
	}
	return newFileInfo(e.d.Name, &rep.Attr), nil
}

func (e *dirEntry) String() string { return fs.FormatDirEntry(e) }

// newDirEntry makes the entry d of the directory at At/dirPath, which
// errors call dirName.
func newDirEntry(o *OS, at uint64, dirPath, dirName string, d ipc.Dirent) *dirEntry {
	return &dirEntry{o: o, at: at, path: joinPath(dirPath, d.Name), name: joinPath(dirName, d.Name), d: d}
}

func joinPath(dir, name string) string {
	switch {
	case dir == "":
		return name
	case dir[len(dir)-1] == '/':
		return dir + name
	}
	return dir + "/" + name
}
