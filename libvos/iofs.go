package libvos

import (
	"io/fs"
	"os"

	"github.com/vos-os/vos/ipc"
)

// FS returns the instance's tree as an fs.FS (also fs.StatFS,
// fs.ReadDirFS, fs.ReadFileFS and fs.ReadLinkFS): names follow io/fs's
// rules (fs.ValidPath, unrooted, "." for the root) and are resolved from
// the instance's root whatever the current directory. Errors name the
// path as it was given.
func (o *OS) FS() fs.FS { return dirFS{o} }

type dirFS struct{ o *OS }

var (
	_ fs.StatFS     = dirFS{}
	_ fs.ReadDirFS  = dirFS{}
	_ fs.ReadFileFS = dirFS{}
	_ fs.ReadLinkFS = dirFS{}
)

// check validates an io/fs name and returns it as a path from the root.
func (dirFS) check(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return name, nil // "." and relative names resolve from At = root
}

func (d dirFS) Open(name string) (fs.File, error) {
	p, err := d.check("open", name)
	if err != nil {
		return nil, err
	}
	f, err := d.o.openAt(ipc.RootIno, p, name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err // a *File as fs.File must not be a typed nil
	}
	return f, nil
}

func (d dirFS) Stat(name string) (fs.FileInfo, error) {
	return d.stat("stat", name, false)
}

func (d dirFS) Lstat(name string) (fs.FileInfo, error) {
	return d.stat("lstat", name, true)
}

func (d dirFS) stat(op, name string, nofollow bool) (fs.FileInfo, error) {
	p, err := d.check(op, name)
	if err != nil {
		return nil, err
	}
	var rep ipc.FSAttrRep
	if err := d.o.call(ipc.OpFSLookup, &ipc.FSLookupReq{At: ipc.RootIno, Path: p, NoFollow: nofollow}, &rep); err != nil {
		return nil, pathErr(op, name, err)
	}
	return newFileInfo(basename(name), &rep.Attr), nil
}

func (d dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := d.check("readdir", name)
	if err != nil {
		return nil, err
	}
	return d.o.readDirAt(ipc.RootIno, p, name)
}

func (d dirFS) ReadFile(name string) ([]byte, error) {
	p, err := d.check("readfile", name)
	if err != nil {
		return nil, err
	}
	f, err := d.o.openAt(ipc.RootIno, p, name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.readAll()
}

func (d dirFS) ReadLink(name string) (string, error) {
	p, err := d.check("readlink", name)
	if err != nil {
		return "", err
	}
	var rep ipc.FSReadlinkRep
	if err := d.o.call(ipc.OpFSReadlink, &ipc.FSReadlinkReq{At: ipc.RootIno, Path: p}, &rep); err != nil {
		return "", pathErr("readlink", name, err)
	}
	return rep.Target, nil
}
