package fs

import (
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/vos-os/vos/ipc"
)

// importTree copies a host folder into the (empty) tree at first boot,
// keeping modes, owners, times, symbolic links, FIFOs, sockets and device
// nodes (with their numbers). Hard links on the host
// become separate files. Precondition: the state lock is held (Boot).
func (s *Server) importTree(root string) error {
	sv := s.srv
	inos := map[string]uint64{root: ipc.RootIno}
	return filepath.WalkDir(root, func(path string, d iofs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("import %s: %w", path, err)
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("import %s: %w", path, err)
		}
		st, _ := info.Sys().(*syscall.Stat_t)
		var uid, gid uint32
		if st != nil {
			uid, gid = st.Uid, st.Gid
		}
		perm := uint32(info.Mode().Perm())
		if info.Mode()&iofs.ModeSetuid != 0 {
			perm |= ipc.S_ISUID
		}
		if info.Mode()&iofs.ModeSetgid != 0 {
			perm |= ipc.S_ISGID
		}
		if info.Mode()&iofs.ModeSticky != 0 {
			perm |= ipc.S_ISVTX
		}
		mtime := info.ModTime().UnixNano()
		ino := ipc.RootIno
		if path != root {
			parent := inos[filepath.Dir(path)]
			ino = s.st.NextIno
			rec := &createRec{Parent: parent, Name: d.Name(), Ino: ino, UID: uid, GID: gid, Time: mtime}
			switch {
			case d.IsDir():
				rec.Mode = ipc.S_IFDIR | perm
			case info.Mode()&iofs.ModeSymlink != 0:
				if rec.Target, err = os.Readlink(path); err != nil {
					return fmt.Errorf("import %s: %w", path, err)
				}
				rec.Mode = ipc.S_IFLNK | 0o777
			case info.Mode().IsRegular():
				rec.Mode = ipc.S_IFREG | perm
			case st != nil: // FIFOs, sockets, device nodes: the node only
				rec.Mode = st.Mode&ipc.S_IFMT | perm
				if t := rec.Mode & ipc.S_IFMT; t == ipc.S_IFCHR || t == ipc.S_IFBLK {
					rec.Rdev = st.Rdev
				}
			default:
				return nil
			}
			if err := sv.Commit(recCreate, rec); err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				if err := s.importData(path, ino, mtime); err != nil {
					return err
				}
			}
		}
		if d.IsDir() {
			inos[path] = ino
		}
		if info.Mode()&iofs.ModeSymlink == 0 {
			return sv.Commit(recSetattr, &setattrRec{Ino: ino, Valid: ipc.SetMode | ipc.SetUID | ipc.SetGID | ipc.SetMtime | ipc.SetAtime,
				Mode: perm, UID: uid, GID: gid, Atime: mtime, Mtime: mtime, Time: mtime})
		}
		return nil
	})
}

// importData copies a host file's bytes into inode ino.
func (s *Server) importData(path string, ino uint64, mtime int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	defer f.Close()
	buf := make([]byte, ipc.MaxIO)
	var off int64
	var stored []blockLen
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			blocks, werr := s.writeBlocks(ino, off, append([]byte(nil), buf[:n]...))
			if werr != nil {
				return fmt.Errorf("import %s: %w", path, werr)
			}
			stored = append(stored, blocks...)
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("import %s: %w", path, err)
		}
	}
	if off == 0 {
		return nil
	}
	return s.srv.Commit(recSize, &sizeRec{Ino: ino, Size: off, Time: mtime, Blocks: stored})
}
