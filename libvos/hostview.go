package libvos

import (
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/vos-os/vos/ipc"
)

// One view of the tree: the manifest's host folders (/usr, /bin …) are
// bound read-only into the instance's pod at their own paths, for host
// binaries. A native program runs in the same pod, so libvos shows it the
// same: a name under a host folder is opened, listed and read through the
// pod's own mount (the os package), and refused with EROFS for any change.
// Everything else is a message to the FS server, as always.

// hostName tells whether name (absolute, or relative to the current
// folder) lies under one of the host folders, and its absolute path.
func (o *OS) hostName(name string) (string, bool) {
	if len(o.hostDirs) == 0 || name == "" {
		return "", false
	}
	p := name
	if !strings.HasPrefix(p, "/") {
		o.mu.Lock()
		cwd := o.cwdPath
		o.mu.Unlock()
		p = path.Join(cwd, p)
	}
	p = path.Clean(p)
	for _, d := range o.hostDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return p, true
		}
	}
	return "", false
}

// hostWrite refuses a change under a host folder, naming it.
func (o *OS) hostWrite(op, name string) error {
	if _, ok := o.hostName(name); ok {
		return pathErr(op, name, ipc.EROFS)
	}
	return nil
}

// hostInfo turns the pod's view of a host file into libvos's FileInfo,
// so that Sys() is a *libvos.Attr whichever door the file came through.
func hostInfo(name string, fi fs.FileInfo) fs.FileInfo {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi
	}
	a := ipc.Attr{Ino: st.Ino, Mode: st.Mode, Nlink: uint32(st.Nlink), UID: st.Uid, GID: st.Gid,
		Size: st.Size, Blocks: st.Blocks,
		Atime: time.Unix(st.Atim.Sec, st.Atim.Nsec).UnixNano(),
		Mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec).UnixNano(),
		Ctime: time.Unix(st.Ctim.Sec, st.Ctim.Nsec).UnixNano()}
	return newFileInfo(name, &a)
}

// hostEntry is a directory entry of a host folder, with libvos's FileInfo.
type hostEntry struct{ fs.DirEntry }

func (e hostEntry) Info() (fs.FileInfo, error) {
	fi, err := e.DirEntry.Info()
	if err != nil {
		return nil, err
	}
	return hostInfo(e.Name(), fi), nil
}

func hostEntries(ents []fs.DirEntry) []fs.DirEntry {
	for i, e := range ents {
		ents[i] = hostEntry{e}
	}
	return ents
}

// hostErr gives an error from the pod's view the name the caller used.
func hostErr(op, name string, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pathErr(op, name, pe.Err)
	}
	return pathErr(op, name, err)
}

// openHost opens a file under a host folder, read-only.
func (o *OS) openHost(hp, name string, flag int) (*File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, pathErr("open", name, ipc.EROFS)
	}
	f, err := os.OpenFile(hp, flag, 0)
	if err != nil {
		return nil, hostErr("open", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, hostErr("open", name, err)
	}
	return &File{o: o, name: name, flag: flag, dir: fi.IsDir(), host: f}, nil
}
