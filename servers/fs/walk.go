package fs

import (
	"strings"

	"github.com/vos-os/vos/ipc"
)

// maxSymlinks is how many symbolic links one resolution may follow (Linux's 40).
const maxSymlinks = 40

// checkPath rejects paths no name can have.
func checkPath(p string) error {
	if strings.IndexByte(p, 0) >= 0 {
		return ipc.EINVAL
	}
	if len(p) >= ipc.PathMax {
		return ipc.ENAMETOOLONG
	}
	return nil
}

// found is the result of resolving a path.
type found struct {
	dir  *inode // the directory holding the final name (nil for "/" and for At itself)
	name string // the final name ("" for "/" and for At itself)
	in   *inode // the final inode, nil if the name does not exist
	// slash says the path ended in "/": the final must be a directory.
	slash bool
}

// resolve walks path from the directory at (the root if 0) as Linux's
// path walk does: search permission on every directory passed, ".." of the
// root is the root, symbolic links followed (the final one only when
// follow), at most maxSymlinks of them. A missing final name is not an
// error (the caller decides: create, or ENOENT); a missing directory on the
// way is. Precondition: the state lock is held.
func (s *Server) resolve(cred *ipc.Cred, at uint64, path string, follow bool) (found, error) {
	if err := checkPath(path); err != nil {
		return found{}, err
	}
	cur := s.st.Inodes[ipc.RootIno]
	if at != 0 && !strings.HasPrefix(path, "/") {
		cur = s.st.Inodes[at]
		if cur == nil {
			return found{}, ipc.ENOENT
		}
	}
	if path == "" {
		return found{in: cur}, nil
	}
	if !cur.isDir() {
		return found{}, ipc.ENOTDIR
	}
	comps := splitPath(path)
	slash := strings.HasSuffix(path, "/")
	links := 0
	var dir *inode
	name := ""
	for len(comps) > 0 {
		c := comps[0]
		comps = comps[1:]
		last := len(comps) == 0
		if !cur.isDir() {
			return found{}, ipc.ENOTDIR
		}
		if !can(cred, cur, ipc.X_OK) {
			return found{}, ipc.EACCES
		}
		if len(c) > ipc.NameMax {
			return found{}, ipc.ENAMETOOLONG
		}
		var next *inode
		switch c {
		case ".":
			next = cur
		case "..":
			next = s.st.Inodes[cur.Parent]
		default:
			if ino, ok := cur.Entries[c]; ok {
				next = s.st.Inodes[ino]
			}
		}
		if next == nil {
			if last {
				return found{dir: cur, name: c, slash: slash}, nil
			}
			return found{}, ipc.ENOENT
		}
		if next.isLink() && (!last || follow || slash) {
			links++
			if links > maxSymlinks {
				return found{}, ipc.ELOOP
			}
			target := splitPath(next.Target)
			if strings.HasSuffix(next.Target, "/") && last {
				slash = true
			}
			comps = append(target, comps...)
			if strings.HasPrefix(next.Target, "/") {
				cur = s.st.Inodes[ipc.RootIno]
			}
			if len(comps) == 0 { // a link to "/"
				return found{in: cur}, nil
			}
			continue
		}
		dir, name = cur, c
		if c == "." || c == ".." {
			dir = nil // not a name that can be created or removed
		}
		if last {
			if slash && !next.isDir() {
				return found{}, ipc.ENOTDIR
			}
			return found{dir: dir, name: name, in: next, slash: slash}, nil
		}
		cur = next
	}
	return found{in: cur}, nil
}

// splitPath splits a path into its names, dropping empty ones.
func splitPath(p string) []string {
	parts := strings.Split(p, "/")
	out := parts[:0]
	for _, c := range parts {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}
