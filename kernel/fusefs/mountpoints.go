package fusefs

import (
	"context"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Mount points a pod needs (/proc, /dev, the host folders, /run/vos) are
// presented as empty read-only folders wherever the instance's tree has
// nothing by that name, so the pod's init can mount on them while the tree
// itself never holds them. Such a folder lives only in this gateway: its
// node id comes from a range no VOS inode reaches.

// mpInoBase is the first node id of a mount point folder.
const mpInoBase = 1 << 62

// mountPoints is the set of mount point paths and the folders they imply.
type mountPoints struct {
	children map[string][]string // folder path ("" for the root) -> child names
	ino      map[string]uint64   // path -> node id of its made-up folder
	at       time.Time
}

func (mp *mountPoints) init(paths []string) {
	mp.children, mp.ino, mp.at = map[string][]string{}, map[string]uint64{}, time.Now()
	for _, p := range paths {
		p = strings.Trim(path.Clean("/"+p), "/")
		for p != "" && p != "." {
			if _, ok := mp.ino[p]; ok {
				break
			}
			mp.ino[p] = mpInoBase + uint64(len(mp.ino))
			parent := path.Dir(p)
			if parent == "." {
				parent = ""
			}
			mp.children[parent] = append(mp.children[parent], path.Base(p))
			p = parent
		}
	}
	for _, c := range mp.children {
		sort.Strings(c)
	}
}

// lookup returns the made-up folder for name under the folder at dir
// (a path relative to the root), if it is a mount point or above one.
func (mp *mountPoints) lookup(ctx context.Context, m *Gateway, parent *fs.Inode, dir, name string, out *fuse.EntryOut) (*fs.Inode, bool) {
	p := strings.TrimPrefix(path.Join(dir, name), "/")
	ino, ok := mp.ino[p]
	if !ok {
		return nil, false
	}
	n := &mpNode{m: m, path: p}
	n.fill(&out.Attr)
	out.Ino = ino
	return parent.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino}), true
}

// mpNode is a made-up mount point folder.
type mpNode struct {
	fs.Inode
	m    *Gateway
	path string
}

var (
	_ = (fs.NodeLookuper)((*mpNode)(nil))
	_ = (fs.NodeGetattrer)((*mpNode)(nil))
	_ = (fs.NodeReaddirer)((*mpNode)(nil))
)

func (n *mpNode) fill(a *fuse.Attr) {
	a.Mode = syscall.S_IFDIR | 0o555
	a.Nlink = 2
	t := n.m.mps.at
	a.SetTimes(&t, &t, &t)
}

func (n *mpNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fill(&out.Attr)
	return 0
}

func (n *mpNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if in, ok := n.m.mps.lookup(ctx, n.m, n.EmbeddedInode(), n.path, name, out); ok {
		return in, 0
	}
	return nil, syscall.ENOENT
}

func (n *mpNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	var ents []fuse.DirEntry
	for _, c := range n.m.mps.children[n.path] {
		ents = append(ents, fuse.DirEntry{Name: c, Mode: syscall.S_IFDIR, Ino: n.m.mps.ino[path.Join(n.path, c)]})
	}
	return fs.NewListDirStream(ents), 0
}

// addMissing appends to a real folder's listing the mount point folders
// under it that the tree lacks, so that ls / shows /proc and /dev.
func (mp *mountPoints) addMissing(dir string, ents []fuse.DirEntry) []fuse.DirEntry {
	kids := mp.children[strings.Trim(dir, "/")]
	if len(kids) == 0 {
		return ents
	}
	have := make(map[string]bool, len(ents))
	for _, e := range ents {
		have[e.Name] = true
	}
	for _, c := range kids {
		if !have[c] {
			ents = append(ents, fuse.DirEntry{Name: c, Mode: syscall.S_IFDIR, Ino: mp.ino[path.Join(strings.Trim(dir, "/"), c)]})
		}
	}
	return ents
}
