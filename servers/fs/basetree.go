package fs

import (
	"fmt"
	"strings"
	"time"

	"github.com/vos-os/vos/ipc"
)

// A fresh instance gets what every Linux program expects to find: /tmp,
// and in /etc the files that name its users, groups, host and resolver.
// What the imported tree already has is left alone.

// BaseTree says what the base files hold.
type BaseTree struct {
	Hostname string
	Users    []User // besides root and nobody
}

// User is an account written into /etc/passwd and /etc/group.
type User struct {
	Name     string
	UID, GID uint32
	Home     string
}

// baseFiles are the base tree's files and their contents.
func (b *BaseTree) baseFiles() map[string]string {
	passwd := "root:x:0:0:root:/root:/bin/sh\n"
	group := "root:x:0:\n"
	for _, u := range b.Users {
		passwd += fmt.Sprintf("%s:x:%d:%d:%s:%s:/bin/sh\n", u.Name, u.UID, u.GID, u.Name, u.Home)
		group += fmt.Sprintf("%s:x:%d:\n", u.Name, u.GID)
	}
	passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	group += "nogroup:x:65534:\n"
	host := b.Hostname
	return map[string]string{
		"/etc/passwd":   passwd,
		"/etc/group":    group,
		"/etc/hostname": host + "\n",
		// The instance's name is its own address; the network server
		// makes it reachable from every node of the instance.
		"/etc/hosts":       "127.0.0.1\tlocalhost " + host + "\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		"/etc/resolv.conf": "# the instance resolves its own names through /etc/hosts\noptions ndots:0\n",
	}
}

// baseDirs are the base tree's folders, parents first.
var baseDirs = []struct {
	path string
	mode uint32
}{{"/etc", 0o755}, {"/tmp", 0o1777}}

// makeBaseTree creates what the tree lacks of the base tree.
// Precondition: the state lock is held (Boot).
func (s *Server) makeBaseTree(b *BaseTree) error {
	now := time.Now().UnixNano()
	for _, d := range baseDirs {
		if _, err := s.baseEntry(d.path, ipc.S_IFDIR|d.mode, now); err != nil {
			return err
		}
	}
	if len(b.Users) > 0 {
		if _, err := s.baseEntry("/home", ipc.S_IFDIR|0o755, now); err != nil {
			return err
		}
	}
	for _, u := range b.Users {
		ino, err := s.baseEntry(u.Home, ipc.S_IFDIR|0o755, now)
		if err != nil || ino == 0 {
			continue // a home outside /home, or a name taken by a file: leave it
		}
		if err := s.srv.Commit(recSetattr, &setattrRec{Ino: ino, Valid: ipc.SetUID | ipc.SetGID, UID: u.UID, GID: u.GID, Time: now}); err != nil {
			return err
		}
	}
	for path, content := range b.baseFiles() {
		ino, err := s.baseEntry(path, ipc.S_IFREG|0o644, now)
		if err != nil {
			return err
		}
		if ino == 0 {
			continue // the import has it
		}
		blocks, err := s.writeBlocks(ino, 0, []byte(content))
		if err != nil {
			return fmt.Errorf("base tree %s: %w", path, err)
		}
		if err := s.srv.Commit(recSize, &sizeRec{Ino: ino, Size: int64(len(content)), Time: now, Blocks: blocks}); err != nil {
			return err
		}
	}
	return nil
}

// baseEntry creates path (its parent must exist) with mode unless
// something has that name: it returns the new inode, or 0.
func (s *Server) baseEntry(path string, mode uint32, now int64) (uint64, error) {
	dir := s.st.Inodes[ipc.RootIno]
	names := strings.Split(strings.Trim(path, "/"), "/")
	for _, n := range names[:len(names)-1] {
		child := s.st.Inodes[dir.Entries[n]]
		if child == nil || !child.isDir() {
			return 0, nil
		}
		dir = child
	}
	name := names[len(names)-1]
	if _, ok := dir.Entries[name]; ok {
		return 0, nil
	}
	ino := s.st.NextIno
	if err := s.srv.Commit(recCreate, &createRec{Parent: dir.Ino, Name: name, Ino: ino, Mode: mode, Time: now}); err != nil {
		return 0, fmt.Errorf("base tree %s: %w", path, err)
	}
	return ino, nil
}
