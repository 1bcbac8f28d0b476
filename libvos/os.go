package libvos

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/ipc/fsclient"
)

// OS is one process's view of its instance: the connection its calls go
// over (and the credentials it carries), the FS endpoint, the current
// directory and the umask. An OS is safe for concurrent use.
type OS struct {
	c    *ipc.Conn
	inst string
	fsc  *fsclient.Client // every FS call; it also tells read-ahead of data changes

	mu      sync.Mutex // guards cwdIno, cwdPath, cwdHost, umask
	cwdIno  uint64
	cwdPath string
	cwdHost bool // the current folder is under a host folder (cwdPath)
	umask   uint32

	hostDirs []string // the host folders bound into the pod (hostview.go)
}

// New returns the view of instance inst for the caller of c, at the root
// directory with umask 022. Credentials are whatever c carries: the kernel
// may assert them with c.WithCred.
func New(c *ipc.Conn, inst string) *OS {
	return &OS{c: c, inst: inst, fsc: fsclient.New(c, inst),
		cwdIno: ipc.RootIno, cwdPath: "/", umask: 0o022}
}

// A VOS-native process gets its OS from its environment with FromEnv
// (proc.go) rather than New.

// Clone returns another view of the instance for the same caller, over
// the same connection, starting in o's current directory with o's umask:
// changing its directory or umask leaves o's alone (a subshell's cd).
func (o *OS) Clone() *OS {
	o.mu.Lock()
	defer o.mu.Unlock()
	return &OS{c: o.c, inst: o.inst, fsc: o.fsc, cwdIno: o.cwdIno, cwdPath: o.cwdPath, cwdHost: o.cwdHost,
		umask: o.umask, hostDirs: o.hostDirs}
}

// Instance returns the instance's name.
func (o *OS) Instance() string { return o.inst }

func (o *OS) call(op ipc.Op, req, rep any) error {
	return o.fsc.Call(context.Background(), op, req, rep)
}

// mutating brackets a call that changes file data (a truncate), so that
// read-ahead sent before it is not trusted after it.
func (o *OS) mutating(f func() error) error { return o.fsc.Mutating(f) }

// resolve checks a name as the kernel's getname does and returns the
// directory it resolves from: the root for an absolute name, the current
// directory otherwise.
func (o *OS) resolve(name string) (uint64, error) {
	if err := checkPath(name); err != nil {
		return 0, err
	}
	if name[0] == '/' {
		return ipc.RootIno, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cwdHost { // names under host folders were handled before this
		return 0, ipc.Errorf(ipc.EXDEV, "a relative name from host folder %s must stay in the host folders", o.cwdPath)
	}
	return o.cwdIno, nil
}

// checkPath rejects what Linux rejects before any lookup. The server's
// empty Path means "At itself", so an empty name must stop here.
func checkPath(name string) error {
	switch {
	case name == "":
		return ipc.ENOENT
	case strings.IndexByte(name, 0) >= 0:
		return ipc.EINVAL
	case len(name) >= ipc.PathMax: // PATH_MAX counts the terminating NUL
		return ipc.ENAMETOOLONG
	}
	return nil
}

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

func linkErr(op, oldname, newname string, err error) error {
	return &os.LinkError{Op: op, Old: oldname, New: newname, Err: err}
}

// Open opens the named file for reading.
func (o *OS) Open(name string) (*File, error) { return o.OpenFile(name, os.O_RDONLY, 0) }

// Create creates or truncates the named file, mode 0666 before the umask.
func (o *OS) Create(name string) (*File, error) {
	return o.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// openFlags are the flags the FS server interprets; the others (O_SYNC,
// O_CLOEXEC, O_NONBLOCK…) mean nothing here: every write is journaled
// before its reply.
const openFlags = ipc.O_ACCMODE | ipc.O_CREAT | ipc.O_EXCL | ipc.O_TRUNC | ipc.O_APPEND | ipc.O_DIRECTORY | ipc.O_NOFOLLOW

// OpenFile opens a file as os.OpenFile does; flag takes the os.O_* values.
// A created file gets perm (with setuid, setgid and sticky) less the umask.
func (o *OS) OpenFile(name string, flag int, perm fs.FileMode) (*File, error) {
	if hp, ok := o.hostName(name); ok {
		return o.openHost(hp, name, flag)
	}
	at, err := o.resolve(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return o.openAt(at, name, name, flag, perm)
}

func (o *OS) openAt(at uint64, p, name string, flag int, perm fs.FileMode) (*File, error) {
	req := &ipc.FSOpenReq{At: at, Path: p, Flags: flag & openFlags, Mode: o.masked(perm)}
	var rep ipc.FSOpenRep
	call := func() error { return o.call(ipc.OpFSOpen, req, &rep) }
	var err error
	if flag&os.O_TRUNC != 0 {
		err = o.mutating(call)
	} else {
		err = call()
	}
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return newFile(o, name, flag, &rep.Attr), nil
}

func (o *OS) masked(perm fs.FileMode) uint32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return permBits(perm) &^ o.umask
}

func (o *OS) lookup(op, name string, nofollow bool) (*ipc.Attr, error) {
	at, err := o.resolve(name)
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	var rep ipc.FSAttrRep
	if err := o.call(ipc.OpFSLookup, &ipc.FSLookupReq{At: at, Path: name, NoFollow: nofollow}, &rep); err != nil {
		return nil, pathErr(op, name, err)
	}
	return &rep.Attr, nil
}

// Stat returns the named file's FileInfo, following symlinks.
func (o *OS) Stat(name string) (fs.FileInfo, error) {
	if hp, ok := o.hostName(name); ok {
		fi, err := os.Stat(hp)
		if err != nil {
			return nil, hostErr("stat", name, err)
		}
		return hostInfo(path.Base(name), fi), nil
	}
	a, err := o.lookup("stat", name, false)
	if err != nil {
		return nil, err
	}
	return newFileInfo(basename(name), a), nil
}

// Lstat is Stat without following a final symlink.
func (o *OS) Lstat(name string) (fs.FileInfo, error) {
	if hp, ok := o.hostName(name); ok {
		fi, err := os.Lstat(hp)
		if err != nil {
			return nil, hostErr("lstat", name, err)
		}
		return hostInfo(path.Base(name), fi), nil
	}
	a, err := o.lookup("lstat", name, true)
	if err != nil {
		return nil, err
	}
	return newFileInfo(basename(name), a), nil
}

// Mkdir creates a directory with perm less the umask.
func (o *OS) Mkdir(name string, perm fs.FileMode) error {
	if err := o.hostWrite("mkdir", name); err != nil {
		return err
	}
	at, err := o.resolve(name)
	if err == nil {
		err = o.call(ipc.OpFSMkdir, &ipc.FSMkdirReq{At: at, Path: name, Mode: o.masked(perm)}, nil)
	}
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	return nil
}

// Mknod creates a node of the type mode names: a FIFO (fs.ModeNamedPipe),
// a character (fs.ModeDevice|fs.ModeCharDevice) or block (fs.ModeDevice)
// device numbered dev (as syscall.Stat_t's Rdev: unix.Mkdev), a UNIX socket
// (fs.ModeSocket) or an empty regular file (no type), with mode's
// permission bits less the umask, as mknod(2). Only root may make device
// nodes (EPERM). They are stored, never opened as devices: opening one
// says EACCES, as on a nodev mount.
func (o *OS) Mknod(name string, mode fs.FileMode, dev uint64) error {
	at, err := o.resolve(name)
	if err == nil {
		m := ModeToLinux(mode)&ipc.S_IFMT | o.masked(mode)
		_, err = o.fsc.Mknod(context.Background(), at, name, m, dev)
	}
	if err != nil {
		return pathErr("mknod", name, err)
	}
	return nil
}

// Mkfifo creates a FIFO with perm less the umask, as mkfifo(3). Its I/O
// happens through a mount of the instance (the kernel's pipe between the
// programs of a node); opening it through libvos says EOPNOTSUPP.
func (o *OS) Mkfifo(name string, perm fs.FileMode) error {
	return o.Mknod(name, fs.ModeNamedPipe|perm.Perm(), 0)
}

// node names a file for the ops that take an inode or a path.
func (o *OS) node(name string, nofollow bool) (ipc.FSNode, error) {
	at, err := o.resolve(name)
	return ipc.FSNode{At: at, Path: name, NoFollow: nofollow}, err
}

// Getxattr returns the value of the named file's extended attribute attr
// ("user.x", "trusted.x", "security.x"), following symlinks, as
// getxattr(2); a missing attribute says ENODATA.
func (o *OS) Getxattr(name, attr string) ([]byte, error) {
	n, err := o.node(name, false)
	var v []byte
	if err == nil {
		v, err = o.fsc.Getxattr(context.Background(), n, attr)
	}
	if err != nil {
		return nil, pathErr("getxattr", name, err)
	}
	return v, nil
}

// Setxattr sets the named file's extended attribute attr, following
// symlinks, as setxattr(2): flags are 0, unix.XATTR_CREATE (EEXIST if it
// exists) or unix.XATTR_REPLACE (ENODATA if it does not). Names are at
// most 255 bytes (ERANGE), values 64 KiB (E2BIG).
func (o *OS) Setxattr(name, attr string, value []byte, flags int) error {
	n, err := o.node(name, false)
	if err == nil {
		_, err = o.fsc.Setxattr(context.Background(), n, attr, value, uint32(flags))
	}
	if err != nil {
		return pathErr("setxattr", name, err)
	}
	return nil
}

// Listxattr lists the names of the named file's extended attributes the
// caller may see (trusted.* only to root), in order, following symlinks.
func (o *OS) Listxattr(name string) ([]string, error) {
	n, err := o.node(name, false)
	var names []string
	if err == nil {
		names, err = o.fsc.Listxattr(context.Background(), n)
	}
	if err != nil {
		return nil, pathErr("listxattr", name, err)
	}
	return names, nil
}

// Removexattr removes the named file's extended attribute attr, following
// symlinks; a missing attribute says ENODATA.
func (o *OS) Removexattr(name, attr string) error {
	n, err := o.node(name, false)
	if err == nil {
		_, err = o.fsc.Removexattr(context.Background(), n, attr)
	}
	if err != nil {
		return pathErr("removexattr", name, err)
	}
	return nil
}

// MkdirAll creates a directory and any missing parents, as os.MkdirAll.
func (o *OS) MkdirAll(name string, perm fs.FileMode) error {
	if fi, err := o.Stat(name); err == nil {
		if fi.IsDir() {
			return nil
		}
		return pathErr("mkdir", name, ipc.ENOTDIR)
	}
	i := len(name)
	for i > 0 && name[i-1] == '/' {
		i--
	}
	j := i
	for j > 0 && name[j-1] != '/' {
		j--
	}
	if j > 1 {
		if err := o.MkdirAll(name[:j-1], perm); err != nil {
			return err
		}
	}
	err := o.Mkdir(name, perm)
	if err != nil {
		// "x/." or a racing creator: fine if it is a directory now.
		if fi, err1 := o.Lstat(name); err1 == nil && fi.IsDir() {
			return nil
		}
		return err
	}
	return nil
}

// Remove removes a file or an empty directory: unlink, then rmdir, with
// the os package's choice of which error to report.
func (o *OS) Remove(name string) error {
	if err := o.hostWrite("remove", name); err != nil {
		return err
	}
	at, err := o.resolve(name)
	if err != nil {
		return pathErr("remove", name, err)
	}
	e := o.call(ipc.OpFSUnlink, &ipc.FSUnlinkReq{At: at, Path: name}, nil)
	if e == nil {
		return nil
	}
	e1 := o.call(ipc.OpFSRmdir, &ipc.FSRmdirReq{At: at, Path: name}, nil)
	if e1 == nil {
		return nil
	}
	// rmdir of a non-directory says ENOTDIR; then unlink's error is the real one.
	if !errors.Is(e1, syscall.ENOTDIR) {
		e = e1
	}
	return pathErr("remove", name, e)
}

// RemoveAll removes name and everything under it, as os.RemoveAll: a name
// that does not exist is no error.
func (o *OS) RemoveAll(name string) error {
	if name == "" {
		return nil
	}
	if name == "." || strings.HasSuffix(name, "/.") {
		return pathErr("RemoveAll", name, ipc.EINVAL)
	}
	err := o.Remove(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	fi, serr := o.Lstat(name)
	if serr != nil {
		if errors.Is(serr, fs.ErrNotExist) {
			return nil
		}
		return serr
	}
	if !fi.IsDir() {
		return err
	}
	ents, err := o.ReadDir(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if err := o.RemoveAll(name + "/" + e.Name()); err != nil {
			return err
		}
	}
	if err := o.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Rename renames oldpath to newpath with rename(2)'s semantics, which
// differ from os.Rename's on one point: a directory may replace an empty
// directory (os.Rename refuses any existing directory as the target).
func (o *OS) Rename(oldpath, newpath string) error {
	for _, n := range []string{oldpath, newpath} {
		if _, ok := o.hostName(n); ok {
			return linkErr("rename", oldpath, newpath, ipc.EROFS)
		}
	}
	oat, err := o.resolve(oldpath)
	if err != nil {
		return linkErr("rename", oldpath, newpath, err)
	}
	nat, err := o.resolve(newpath)
	if err != nil {
		return linkErr("rename", oldpath, newpath, err)
	}
	if err := o.call(ipc.OpFSRename, &ipc.FSRenameReq{OldAt: oat, OldPath: oldpath, NewAt: nat, NewPath: newpath}, nil); err != nil {
		return linkErr("rename", oldpath, newpath, err)
	}
	return nil
}

// Symlink creates newname as a symbolic link to oldname.
func (o *OS) Symlink(oldname, newname string) error {
	if _, ok := o.hostName(newname); ok {
		return linkErr("symlink", oldname, newname, ipc.EROFS)
	}
	err := checkPath(oldname)
	var at uint64
	if err == nil {
		at, err = o.resolve(newname)
	}
	if err == nil {
		err = o.call(ipc.OpFSSymlink, &ipc.FSSymlinkReq{At: at, Path: newname, Target: oldname}, nil)
	}
	if err != nil {
		return linkErr("symlink", oldname, newname, err)
	}
	return nil
}

// Readlink returns a symbolic link's target.
func (o *OS) Readlink(name string) (string, error) {
	if hp, ok := o.hostName(name); ok {
		t, err := os.Readlink(hp)
		if err != nil {
			return "", hostErr("readlink", name, err)
		}
		return t, nil
	}
	at, err := o.resolve(name)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	var rep ipc.FSReadlinkRep
	if err := o.call(ipc.OpFSReadlink, &ipc.FSReadlinkReq{At: at, Path: name}, &rep); err != nil {
		return "", pathErr("readlink", name, err)
	}
	return rep.Target, nil
}

// Link creates newname as a hard link to oldname.
func (o *OS) Link(oldname, newname string) error {
	for _, n := range []string{oldname, newname} {
		if _, ok := o.hostName(n); ok {
			return linkErr("link", oldname, newname, ipc.EROFS)
		}
	}
	oat, err := o.resolve(oldname)
	if err != nil {
		return linkErr("link", oldname, newname, err)
	}
	nat, err := o.resolve(newname)
	if err != nil {
		return linkErr("link", oldname, newname, err)
	}
	if err := o.call(ipc.OpFSLink, &ipc.FSLinkReq{OldAt: oat, OldPath: oldname, NewAt: nat, NewPath: newname}, nil); err != nil {
		return linkErr("link", oldname, newname, err)
	}
	return nil
}

// setattr changes the named file's attributes; op names the operation in
// errors.
func (o *OS) setattr(op, name string, req *ipc.FSSetattrReq) error {
	if err := o.hostWrite(op, name); err != nil {
		return err
	}
	at, err := o.resolve(name)
	if err != nil {
		return pathErr(op, name, err)
	}
	req.At, req.Path = at, name
	call := func() error { return o.call(ipc.OpFSSetattr, req, nil) }
	if req.Valid&ipc.SetSize != 0 {
		err = o.mutating(call)
	} else {
		err = call()
	}
	if err != nil {
		return pathErr(op, name, err)
	}
	return nil
}

// Chmod changes the mode (permission bits with setuid, setgid and sticky)
// of the named file, following symlinks.
func (o *OS) Chmod(name string, mode fs.FileMode) error {
	return o.setattr("chmod", name, &ipc.FSSetattrReq{Valid: ipc.SetMode, Mode: permBits(mode)})
}

// Chown changes the owner and group of the named file, following
// symlinks; -1 leaves a value unchanged.
func (o *OS) Chown(name string, uid, gid int) error {
	return o.setattr("chown", name, chownReq(uid, gid, false))
}

// Lchown is Chown of a symlink itself.
func (o *OS) Lchown(name string, uid, gid int) error {
	return o.setattr("lchown", name, chownReq(uid, gid, true))
}

func chownReq(uid, gid int, nofollow bool) *ipc.FSSetattrReq {
	r := &ipc.FSSetattrReq{NoFollow: nofollow}
	if uid != -1 {
		r.Valid |= ipc.SetUID
		r.UID = uint32(uid)
	}
	if gid != -1 {
		r.Valid |= ipc.SetGID
		r.GID = uint32(gid)
	}
	return r
}

// Chtimes sets the access and modification times; a zero time.Time leaves
// that time unchanged, as with os.Chtimes.
func (o *OS) Chtimes(name string, atime, mtime time.Time) error {
	r := &ipc.FSSetattrReq{}
	if !atime.IsZero() {
		r.Valid |= ipc.SetAtime
		r.Atime = atime.UnixNano()
	}
	if !mtime.IsZero() {
		r.Valid |= ipc.SetMtime
		r.Mtime = mtime.UnixNano()
	}
	return o.setattr("chtimes", name, r)
}

// Truncate changes the named file's size; growing it adds zeros.
func (o *OS) Truncate(name string, size int64) error {
	if err := o.hostWrite("truncate", name); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", name, ipc.EINVAL)
	}
	return o.setattr("truncate", name, &ipc.FSSetattrReq{Valid: ipc.SetSize, Size: size})
}

// ReadFile returns the whole contents of the named file.
func (o *OS) ReadFile(name string) ([]byte, error) {
	f, err := o.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.readAll()
}

// WriteFile writes data to the named file, creating it with perm (less the
// umask) or truncating it.
func (o *OS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	f, err := o.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err1 := f.Close(); err1 != nil && err == nil {
		err = err1
	}
	return err
}

// ReadDir lists the named directory sorted by name.
func (o *OS) ReadDir(name string) ([]fs.DirEntry, error) {
	if hp, ok := o.hostName(name); ok {
		ents, err := os.ReadDir(hp)
		if err != nil {
			return nil, hostErr("open", name, err)
		}
		return hostEntries(ents), nil
	}
	at, err := o.resolve(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return o.readDirAt(at, name, name)
}

func (o *OS) readDirAt(at uint64, p, name string) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	after := ""
	for {
		var rep ipc.FSReaddirRep
		if err := o.call(ipc.OpFSReaddir, &ipc.FSReaddirReq{At: at, Path: p, After: after}, &rep); err != nil {
			return out, pathErr("open", name, err)
		}
		for _, d := range rep.Entries {
			out = append(out, newDirEntry(o, at, p, name, d))
		}
		if rep.Done || len(rep.Entries) == 0 {
			break
		}
		after = rep.Entries[len(rep.Entries)-1].Name
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Chdir changes the current directory. The directory is remembered by
// inode, so renaming it (or a parent) does not move the process.
func (o *OS) Chdir(dir string) error {
	if hp, ok := o.hostName(dir); ok {
		fi, err := os.Stat(hp)
		if err != nil {
			return hostErr("chdir", dir, err)
		}
		if !fi.IsDir() {
			return pathErr("chdir", dir, ipc.ENOTDIR)
		}
		o.mu.Lock()
		o.cwdIno, o.cwdPath, o.cwdHost = ipc.RootIno, hp, true
		o.mu.Unlock()
		return nil
	}
	a, err := o.lookup("chdir", dir, false)
	if err != nil {
		return err
	}
	if !a.IsDir() {
		return pathErr("chdir", dir, ipc.ENOTDIR)
	}
	if err := o.Access(dir, ipc.X_OK); err != nil {
		return pathErr("chdir", dir, errors.Unwrap(err))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cwdIno, o.cwdHost = a.Ino, false
	if dir[0] == '/' {
		o.cwdPath = path.Clean(dir)
	} else {
		o.cwdPath = path.Join(o.cwdPath, dir)
	}
	return nil
}

// Getwd returns the current directory's absolute path. The path Chdir
// computed is checked to still name the directory (a rename, a ".." through
// a symlink may have made it wrong); if it does not, the path is rebuilt
// by walking up through "..", as getcwd does.
func (o *OS) Getwd() (string, error) {
	o.mu.Lock()
	if o.cwdHost {
		defer o.mu.Unlock()
		return o.cwdPath, nil
	}
	o.mu.Unlock()
	o.mu.Lock()
	ino, p := o.cwdIno, o.cwdPath
	o.mu.Unlock()
	var rep ipc.FSAttrRep
	if err := o.call(ipc.OpFSLookup, &ipc.FSLookupReq{At: ipc.RootIno, Path: p}, &rep); err == nil && rep.Attr.Ino == ino {
		return p, nil
	}
	p, err := o.walkUp(ino)
	if err != nil {
		return "", pathErr("getwd", ".", err)
	}
	o.mu.Lock()
	if o.cwdIno == ino {
		o.cwdPath = p
	}
	o.mu.Unlock()
	return p, nil
}

func (o *OS) walkUp(ino uint64) (string, error) {
	var names []string
	for ino != ipc.RootIno {
		var up ipc.FSAttrRep
		if err := o.call(ipc.OpFSLookup, &ipc.FSLookupReq{At: ino, Path: ".."}, &up); err != nil {
			return "", err
		}
		ents, err := o.readDirAt(up.Attr.Ino, "", "..")
		if err != nil {
			return "", err
		}
		i := slices.IndexFunc(ents, func(e fs.DirEntry) bool { return e.(*dirEntry).d.Ino == ino })
		if i < 0 || up.Attr.Ino == ino {
			return "", ipc.ENOENT // removed: getcwd says ENOENT too
		}
		names = append(names, ents[i].Name())
		ino = up.Attr.Ino
	}
	slices.Reverse(names)
	return "/" + strings.Join(names, "/"), nil
}

// Umask sets the file mode creation mask and returns the previous one, as
// syscall.Umask.
func (o *OS) Umask(mask int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	old := o.umask
	o.umask = uint32(mask) & 0o777
	return int(old)
}

// Statfs returns the filesystem's totals.
func (o *OS) Statfs() (*FSStat, error) {
	var rep ipc.FSStatfsRep
	if err := o.call(ipc.OpFSStatfs, &ipc.FSStatfsReq{}, &rep); err != nil {
		return nil, pathErr("statfs", "/", err)
	}
	return &FSStat{Bsize: rep.Bsize, Blocks: rep.Blocks, Bfree: rep.Bfree, Files: rep.Files, Ffree: rep.Ffree, NameMax: rep.NameMax}, nil
}

// Access checks the caller's access to the named file as access(2):
// mode is ipc.R_OK|W_OK|X_OK, or F_OK for existence.
func (o *OS) Access(name string, mode uint32) error {
	if hp, ok := o.hostName(name); ok {
		if mode&ipc.W_OK != 0 {
			return pathErr("access", name, ipc.EROFS)
		}
		if err := syscall.Access(hp, mode); err != nil {
			return pathErr("access", name, err)
		}
		return nil
	}
	at, err := o.resolve(name)
	if err == nil {
		err = o.call(ipc.OpFSAccess, &ipc.FSAccessReq{At: at, Path: name, Mask: mode}, nil)
	}
	if err != nil {
		return pathErr("access", name, err)
	}
	return nil
}

// basename is os's: the last element, trailing slashes removed.
func basename(name string) string {
	i := len(name) - 1
	for ; i > 0 && name[i] == '/'; i-- {
		name = name[:i]
	}
	for i--; i >= 0; i-- {
		if name[i] == '/' {
			name = name[i+1:]
			break
		}
	}
	return name
}

var _ io.Closer = (*File)(nil)
