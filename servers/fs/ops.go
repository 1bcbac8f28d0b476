package fs

import (
	"context"
	"sort"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

func now() int64 { return time.Now().UnixNano() }

// maxLinks is the most names one inode may have.
const maxLinks = 65000

func (s *Server) lookup(c *srv.Call, r *ipc.FSLookupReq) (*ipc.FSAttrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.RLock()
	defer sv.RUnlock()
	f, err := s.resolve(cred, r.At, r.Path, !r.NoFollow)
	if err != nil {
		return nil, err
	}
	if f.in == nil {
		return nil, ipc.ENOENT
	}
	return &ipc.FSAttrRep{Attr: f.in.attr()}, nil
}

func (s *Server) getattr(c *srv.Call, r *ipc.FSGetattrReq) (*ipc.FSAttrRep, error) {
	sv := c.Server()
	sv.RLock()
	defer sv.RUnlock()
	in := s.st.Inodes[r.Ino]
	if in == nil {
		return nil, ipc.ENOENT
	}
	return &ipc.FSAttrRep{Attr: in.attr()}, nil
}

func (s *Server) fsync(c *srv.Call, r *ipc.FSFsyncReq) (*ipc.FSEmpty, error) {
	if _, err := s.getattr(c, &ipc.FSGetattrReq{Ino: r.Ino}); err != nil {
		return nil, err
	}
	return &ipc.FSEmpty{}, nil
}

// target finds the inode a setattr names: by number, or by path.
// Precondition: the state lock is held.
func (s *Server) target(cred *ipc.Cred, ino, at uint64, path string, nofollow bool) (*inode, error) {
	if ino != 0 {
		if in := s.st.Inodes[ino]; in != nil {
			return in, nil
		}
		return nil, ipc.ENOENT
	}
	f, err := s.resolve(cred, at, path, !nofollow)
	if err != nil {
		return nil, err
	}
	if f.in == nil {
		return nil, ipc.ENOENT
	}
	return f.in, nil
}

func (s *Server) setattr(c *srv.Call, r *ipc.FSSetattrReq) (*ipc.FSAttrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	if r.Valid&ipc.SetSize != 0 {
		sv.RLock()
		in, err := s.target(cred, r.Ino, r.At, r.Path, r.NoFollow)
		if err == nil {
			switch {
			case in.isDir():
				err = ipc.EISDIR
			case !in.isReg():
				err = ipc.EINVAL
			case !can(cred, in, ipc.W_OK):
				err = ipc.EACCES
			}
		}
		sv.RUnlock()
		if err != nil {
			return nil, err
		}
		if r.Size < 0 {
			return nil, ipc.EINVAL
		}
		if err := s.truncate(c, cred, in.Ino, r.Size); err != nil {
			return nil, err
		}
		r.Ino = in.Ino
	}
	sv.Lock()
	defer sv.Unlock()
	in, err := s.target(cred, r.Ino, r.At, r.Path, r.NoFollow)
	if err != nil {
		return nil, err
	}
	valid := r.Valid &^ ipc.SetSize
	if valid == 0 {
		return &ipc.FSAttrRep{Attr: in.attr()}, nil
	}
	owner := cred.UID == 0 || cred.UID == in.UID
	rec := &setattrRec{Ino: in.Ino, Valid: valid, Mode: r.Mode, UID: r.UID, GID: r.GID, Atime: r.Atime, Mtime: r.Mtime, Time: now()}
	if valid&ipc.SetMode != 0 {
		if !owner {
			return nil, ipc.EPERM
		}
		if cred.UID != 0 && !cred.InGroup(in.GID) {
			rec.Mode &^= ipc.S_ISGID // as Linux: only group members may set set-group-ID
		}
	}
	if valid&ipc.SetUID != 0 && r.UID != in.UID && cred.UID != 0 {
		return nil, ipc.EPERM
	}
	if valid&ipc.SetGID != 0 && r.GID != in.GID && cred.UID != 0 && (cred.UID != in.UID || !cred.InGroup(r.GID)) {
		return nil, ipc.EPERM
	}
	if valid&(ipc.SetUID|ipc.SetGID) != 0 && in.isReg() && valid&ipc.SetMode == 0 {
		// As Linux (root included): a chown clears set-user-ID, and
		// set-group-ID when the group may execute (without group execute
		// it means mandatory locking and stays).
		m := in.Mode &^ ipc.S_ISUID
		if in.Mode&0o010 != 0 {
			m &^= ipc.S_ISGID
		}
		if m != in.Mode {
			rec.Valid |= ipc.SetMode
			rec.Mode = m
		}
	}
	if valid&(ipc.SetAtime|ipc.SetMtime) != 0 && !owner {
		return nil, ipc.EPERM
	}
	if valid&(ipc.SetAtimeNow|ipc.SetMtimeNow) != 0 {
		if !owner && !can(cred, in, ipc.W_OK) {
			return nil, ipc.EACCES
		}
		if valid&ipc.SetAtimeNow != 0 {
			rec.Atime = rec.Time
		}
		if valid&ipc.SetMtimeNow != 0 {
			rec.Mtime = rec.Time
		}
	}
	if err := c.Commit(recSetattr, rec); err != nil {
		return nil, err
	}
	s.notify(ipc.FSEventAttr, in, "")
	return &ipc.FSAttrRep{Attr: in.attr()}, nil
}

// newOwner says who owns a file made in dir: the caller, with the
// directory's group when it is set-group-ID (as on Linux).
func newOwner(cred *ipc.Cred, dir *inode, mode uint32) (uid, gid, m uint32) {
	gid = cred.GID
	if dir.Mode&ipc.S_ISGID != 0 {
		gid = dir.GID
		if mode&ipc.S_IFMT == ipc.S_IFDIR {
			mode |= ipc.S_ISGID
		}
	}
	return cred.UID, gid, mode
}

// create commits a new inode named f.name in f.dir. Precondition: the
// state lock is held for writing.
func (s *Server) create(c *srv.Call, cred *ipc.Cred, f found, mode uint32, target string, rdev uint64) (*inode, error) {
	if f.dir == nil {
		return nil, ipc.EEXIST
	}
	if !can(cred, f.dir, ipc.W_OK|ipc.X_OK) {
		return nil, ipc.EACCES
	}
	if f.dir.Nlink == 0 { // a removed directory still open somewhere
		return nil, ipc.ENOENT
	}
	uid, gid, mode := newOwner(cred, f.dir, mode)
	ino := s.st.NextIno
	if err := c.Commit(recCreate, &createRec{Parent: f.dir.Ino, Name: f.name, Ino: ino, Mode: mode,
		UID: uid, GID: gid, Target: target, Rdev: rdev, Time: now()}); err != nil {
		return nil, err
	}
	s.notify(ipc.FSEventEntry, f.dir, f.name)
	return s.st.Inodes[ino], nil
}

func (s *Server) open(c *srv.Call, r *ipc.FSOpenReq) (*ipc.FSOpenRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	acc := r.Flags & ipc.O_ACCMODE
	if acc == ipc.O_ACCMODE {
		return nil, ipc.EINVAL
	}
	creat, excl := r.Flags&ipc.O_CREAT != 0, r.Flags&ipc.O_EXCL != 0
	follow := r.Flags&ipc.O_NOFOLLOW == 0 && !(creat && excl)
	sv := c.Server()
	sv.Lock()
	f, err := s.resolve(cred, r.At, r.Path, follow)
	if err != nil {
		sv.Unlock()
		return nil, err
	}
	in, created := f.in, false
	switch {
	case in == nil && !creat:
		err = ipc.ENOENT
	case in == nil && f.slash:
		err = ipc.EISDIR
	case in == nil:
		in, err = s.create(c, cred, f, ipc.S_IFREG|r.Mode&0o7777, "", 0)
		created = true
	case creat && excl:
		err = ipc.EEXIST
	case in.isLink():
		err = ipc.ELOOP // O_NOFOLLOW on a symbolic link
	case in.isDir() && (acc != ipc.O_RDONLY || r.Flags&ipc.O_TRUNC != 0 || creat):
		err = ipc.EISDIR
	case !in.isDir() && r.Flags&ipc.O_DIRECTORY != 0:
		err = ipc.ENOTDIR
	default:
		var want uint32
		if acc == ipc.O_RDONLY || acc == ipc.O_RDWR {
			want |= ipc.R_OK
		}
		if acc == ipc.O_WRONLY || acc == ipc.O_RDWR || r.Flags&ipc.O_TRUNC != 0 {
			want |= ipc.W_OK
		}
		if !can(cred, in, want) {
			err = ipc.EACCES
		} else if !in.isReg() && !in.isDir() {
			err = openSpecial(in)
		}
	}
	if err != nil {
		sv.Unlock()
		return nil, err
	}
	s.openMu.Lock()
	s.opens[in.Ino]++
	s.openMu.Unlock()
	rep := &ipc.FSOpenRep{Attr: in.attr(), Created: created}
	sv.Unlock()
	if r.Flags&ipc.O_TRUNC != 0 && !created && in.isReg() {
		if err := s.truncate(c, cred, rep.Attr.Ino, 0); err != nil {
			s.release(c, rep.Attr.Ino)
			return nil, err
		}
		sv.RLock()
		if in := s.st.Inodes[rep.Attr.Ino]; in != nil {
			rep.Attr = in.attr()
		}
		sv.RUnlock()
	}
	return rep, nil
}

func (s *Server) close(c *srv.Call, r *ipc.FSCloseReq) (*ipc.FSEmpty, error) {
	if err := s.release(c, r.Ino); err != nil {
		return nil, err
	}
	return &ipc.FSEmpty{}, nil
}

// release ends one open; the last close of an unlinked file forgets it.
// After a restart the counts start from zero, so any close of an unlinked
// file reaps it.
func (s *Server) release(c *srv.Call, ino uint64) error {
	s.openMu.Lock()
	n := s.opens[ino] - 1
	if n <= 0 {
		delete(s.opens, ino)
	} else {
		s.opens[ino] = n
	}
	s.openMu.Unlock()
	if n > 0 {
		return nil
	}
	sv := c.Server()
	sv.Lock()
	in := s.st.Inodes[ino]
	// Opens count under the state lock: one may have come in meanwhile.
	if in == nil || in.Nlink != 0 || s.isOpen(ino) {
		sv.Unlock()
		return nil
	}
	err := c.Commit(recReap, &inoRec{Ino: ino, Time: now()})
	sv.Unlock()
	if err != nil {
		return err
	}
	return s.clearPending(c.Server(), ino)
}

// isOpen tells whether an inode is open anywhere.
func (s *Server) isOpen(ino uint64) bool {
	s.openMu.Lock()
	defer s.openMu.Unlock()
	return s.opens[ino] > 0
}

func (s *Server) mkdir(c *srv.Call, r *ipc.FSMkdirReq) (*ipc.FSAttrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	f, err := s.resolve(cred, r.At, r.Path, false)
	if err != nil {
		return nil, err
	}
	if f.in != nil {
		return nil, ipc.EEXIST
	}
	in, err := s.create(c, cred, f, ipc.S_IFDIR|r.Mode&0o7777, "", 0)
	if err != nil {
		return nil, err
	}
	return &ipc.FSAttrRep{Attr: in.attr()}, nil
}

func (s *Server) symlink(c *srv.Call, r *ipc.FSSymlinkReq) (*ipc.FSAttrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	if r.Target == "" {
		return nil, ipc.ENOENT
	}
	if err := checkPath(r.Target); err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	f, err := s.resolve(cred, r.At, r.Path, false)
	if err != nil {
		return nil, err
	}
	if f.in != nil {
		return nil, ipc.EEXIST
	}
	if f.slash {
		return nil, ipc.ENOENT
	}
	in, err := s.create(c, cred, f, ipc.S_IFLNK|0o777, r.Target, 0)
	if err != nil {
		return nil, err
	}
	return &ipc.FSAttrRep{Attr: in.attr()}, nil
}

func (s *Server) readlink(c *srv.Call, r *ipc.FSReadlinkReq) (*ipc.FSReadlinkRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.RLock()
	defer sv.RUnlock()
	f, err := s.resolve(cred, r.At, r.Path, false)
	if err != nil {
		return nil, err
	}
	if f.in == nil {
		return nil, ipc.ENOENT
	}
	if !f.in.isLink() {
		return nil, ipc.EINVAL
	}
	return &ipc.FSReadlinkRep{Target: f.in.Target}, nil
}

// removable checks that cred may remove the name f from its directory.
func removable(cred *ipc.Cred, f found) error {
	if !can(cred, f.dir, ipc.W_OK|ipc.X_OK) {
		return ipc.EACCES
	}
	if stickyForbids(cred, f.dir, f.in) {
		return ipc.EPERM
	}
	return nil
}

func (s *Server) unlink(c *srv.Call, r *ipc.FSUnlinkReq) (*ipc.FSEmpty, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.Lock()
	f, err := s.resolve(cred, r.At, r.Path, false)
	switch {
	case err != nil:
	case f.in == nil:
		err = ipc.ENOENT
	case f.dir == nil || f.in.isDir():
		err = ipc.EISDIR
	default:
		err = removable(cred, f)
	}
	if err != nil {
		sv.Unlock()
		return nil, err
	}
	orphan := f.in.isReg() && f.in.Nlink == 1 && s.isOpen(f.in.Ino)
	ino := f.in.Ino
	err = c.Commit(recUnlink, &unlinkRec{Parent: f.dir.Ino, Name: f.name, Time: now(), Orphan: orphan})
	s.notify(ipc.FSEventEntry, f.dir, f.name)
	if in := s.st.Inodes[ino]; in != nil {
		s.notify(ipc.FSEventAttr, in, "")
	}
	sv.Unlock()
	if err != nil {
		return nil, err
	}
	if err := s.clearPending(sv, ino); err != nil {
		return nil, err
	}
	return &ipc.FSEmpty{}, nil
}

func (s *Server) rmdir(c *srv.Call, r *ipc.FSRmdirReq) (*ipc.FSEmpty, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	f, err := s.resolve(cred, r.At, r.Path, false)
	if err != nil {
		return nil, err
	}
	switch {
	case f.in == nil:
		return nil, ipc.ENOENT
	case !f.in.isDir():
		return nil, ipc.ENOTDIR
	case f.name == ".":
		return nil, ipc.EINVAL
	case f.name == "..":
		return nil, ipc.ENOTEMPTY
	case f.dir == nil || f.in.Ino == ipc.RootIno:
		return nil, ipc.EBUSY
	case len(f.in.Entries) > 0:
		return nil, ipc.ENOTEMPTY
	}
	if err := removable(cred, f); err != nil {
		return nil, err
	}
	// A directory still open somewhere stays (empty, nameless) until closed.
	if err := c.Commit(recUnlink, &unlinkRec{Parent: f.dir.Ino, Name: f.name, Time: now(), Orphan: s.isOpen(f.in.Ino)}); err != nil {
		return nil, err
	}
	s.notify(ipc.FSEventEntry, f.dir, f.name)
	return &ipc.FSEmpty{}, nil
}

func (s *Server) rename(c *srv.Call, r *ipc.FSRenameReq) (*ipc.FSEmpty, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	exchange, noreplace := r.Flags&ipc.RenameExchange != 0, r.Flags&ipc.RenameNoReplace != 0
	if r.Flags&^(ipc.RenameExchange|ipc.RenameNoReplace) != 0 || exchange && noreplace {
		return nil, ipc.EINVAL
	}
	sv := c.Server()
	sv.Lock()
	of, nf, replaced, err := s.checkRename(cred, r, exchange, noreplace)
	if err != nil || of.in == nf.in { // renaming a file onto itself does nothing
		sv.Unlock()
		if err != nil {
			return nil, err
		}
		return &ipc.FSEmpty{}, nil
	}
	orphan := replaced != nil && !exchange && (replaced.isDir() || replaced.Nlink == 1) && s.isOpen(replaced.Ino)
	err = c.Commit(recRename, &renameRec{OldParent: of.dir.Ino, OldName: of.name, NewParent: nf.dir.Ino,
		NewName: nf.name, Exchange: exchange, Time: now(), Orphan: orphan})
	s.notify(ipc.FSEventEntry, of.dir, of.name)
	s.notify(ipc.FSEventEntry, nf.dir, nf.name)
	sv.Unlock()
	if err != nil {
		return nil, err
	}
	if replaced != nil && !exchange {
		if err := s.clearPending(sv, replaced.Ino); err != nil {
			return nil, err
		}
	}
	return &ipc.FSEmpty{}, nil
}

// checkRename applies POSIX's rules to a rename. Precondition: the state
// lock is held.
func (s *Server) checkRename(cred *ipc.Cred, r *ipc.FSRenameReq, exchange, noreplace bool) (of, nf found, replaced *inode, err error) {
	if of, err = s.resolve(cred, r.OldAt, r.OldPath, false); err != nil {
		return
	}
	if of.in == nil {
		return of, nf, nil, ipc.ENOENT
	}
	if nf, err = s.resolve(cred, r.NewAt, r.NewPath, false); err != nil {
		return
	}
	if of.dir == nil || nf.dir == nil {
		return of, nf, nil, ipc.EBUSY // ".", ".." or "/"
	}
	if nf.slash && !of.in.isDir() {
		return of, nf, nil, ipc.ENOTDIR
	}
	replaced = nf.in
	switch {
	case exchange && replaced == nil:
		return of, nf, nil, ipc.ENOENT
	case noreplace && replaced != nil:
		return of, nf, nil, ipc.EEXIST
	case replaced == of.in:
		return of, nf, nil, nil
	}
	for _, f := range []found{of, nf} {
		if !can(cred, f.dir, ipc.W_OK|ipc.X_OK) {
			return of, nf, nil, ipc.EACCES
		}
		if f.in != nil && stickyForbids(cred, f.dir, f.in) {
			return of, nf, nil, ipc.EPERM
		}
	}
	if replaced != nil && !exchange {
		switch {
		case of.in.isDir() && !replaced.isDir():
			return of, nf, nil, ipc.ENOTDIR
		case !of.in.isDir() && replaced.isDir():
			return of, nf, nil, ipc.EISDIR
		case replaced.isDir() && len(replaced.Entries) > 0:
			return of, nf, nil, ipc.ENOTEMPTY
		}
	}
	// A directory may not move below itself, and moving it to another
	// parent rewrites its "..", which needs write permission on it.
	moves := []struct {
		in       *inode
		from, to *inode
	}{{of.in, of.dir, nf.dir}}
	if exchange {
		moves = append(moves, struct{ in, from, to *inode }{replaced, nf.dir, of.dir})
	}
	for _, m := range moves {
		if !m.in.isDir() || m.from == m.to {
			continue
		}
		if s.isAncestor(m.in, m.to) {
			return of, nf, nil, ipc.EINVAL
		}
		if !can(cred, m.in, ipc.W_OK) {
			return of, nf, nil, ipc.EACCES
		}
	}
	return of, nf, replaced, nil
}

// isAncestor tells whether dir a is d or above it. Precondition: the state
// lock is held.
func (s *Server) isAncestor(a, d *inode) bool {
	for {
		if d == a {
			return true
		}
		if d.Ino == ipc.RootIno {
			return false
		}
		d = s.st.Inodes[d.Parent]
		if d == nil {
			return false
		}
	}
}

func (s *Server) link(c *srv.Call, r *ipc.FSLinkReq) (*ipc.FSAttrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	of, err := s.resolve(cred, r.OldAt, r.OldPath, false)
	if err != nil {
		return nil, err
	}
	if of.in == nil {
		return nil, ipc.ENOENT
	}
	if of.in.isDir() {
		return nil, ipc.EPERM
	}
	nf, err := s.resolve(cred, r.NewAt, r.NewPath, false)
	if err != nil {
		return nil, err
	}
	switch {
	case nf.in != nil || nf.dir == nil:
		return nil, ipc.EEXIST
	case nf.slash:
		return nil, ipc.ENOENT
	case !can(cred, nf.dir, ipc.W_OK|ipc.X_OK):
		return nil, ipc.EACCES
	case of.in.Nlink >= maxLinks:
		return nil, ipc.EMLINK
	case of.in.Nlink == 0:
		return nil, ipc.ENOENT
	}
	if err := c.Commit(recLink, &linkRec{Parent: nf.dir.Ino, Name: nf.name, Ino: of.in.Ino, Time: now()}); err != nil {
		return nil, err
	}
	s.notify(ipc.FSEventEntry, nf.dir, nf.name)
	s.notify(ipc.FSEventAttr, of.in, "")
	return &ipc.FSAttrRep{Attr: of.in.attr()}, nil
}

// maxReaddirBytes bounds one readdir reply, well under a message.
const maxReaddirBytes = 1 << 20

func (s *Server) readdir(c *srv.Call, r *ipc.FSReaddirReq) (*ipc.FSReaddirRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.RLock()
	defer sv.RUnlock()
	f, err := s.resolve(cred, r.At, r.Path, true)
	if err != nil {
		return nil, err
	}
	switch {
	case f.in == nil:
		return nil, ipc.ENOENT
	case !f.in.isDir():
		return nil, ipc.ENOTDIR
	case !can(cred, f.in, ipc.R_OK):
		return nil, ipc.EACCES
	}
	s.sortMu.Lock() // names() fills a cache, and this is a reader
	names := f.in.names()
	s.sortMu.Unlock()
	i := 0
	if r.After != "" {
		i = sort.SearchStrings(names, r.After)
		if i < len(names) && names[i] == r.After {
			i++
		}
	}
	max := r.Max
	if max <= 0 {
		max = 1 << 30
	}
	rep := &ipc.FSReaddirRep{}
	bytes := 0
	for ; i < len(names) && len(rep.Entries) < max && bytes < maxReaddirBytes; i++ {
		ino := f.in.Entries[names[i]]
		var mode uint32
		if in := s.st.Inodes[ino]; in != nil {
			mode = in.Mode & ipc.S_IFMT
		}
		rep.Entries = append(rep.Entries, ipc.Dirent{Name: names[i], Ino: ino, Mode: mode})
		bytes += len(names[i]) + 16
	}
	rep.Done = i >= len(names)
	return rep, nil
}

// nominalBytes is the capacity statfs reports when JetStream sets no limit.
const nominalBytes = 1 << 40

// space is the instance's capacity (the account's JetStream limit, or a
// nominal terabyte) and what its files' stored blocks take of it, counted
// as st_blocks counts them.
func (s *Server) space(sv *srv.Server) (total, used int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	total = nominalBytes
	if info, err := sv.Config().JS.AccountInfo(ctx); err == nil && info.Limits.MaxStore > 0 {
		total = info.Limits.MaxStore
	}
	sv.RLock()
	defer sv.RUnlock()
	for _, in := range s.st.Inodes {
		used += in.alloc
	}
	return total, used
}

// statfs reports this instance's own usage against its capacity.
func (s *Server) statfs(c *srv.Call, _ *ipc.FSStatfsReq) (*ipc.FSStatfsRep, error) {
	sv := c.Server()
	total, used := s.space(sv)
	sv.RLock()
	files := uint64(len(s.st.Inodes))
	sv.RUnlock()
	const bsize = AllocUnit
	free := max(total-used, 0)
	return &ipc.FSStatfsRep{Bsize: bsize, Blocks: uint64(total / bsize), Bfree: uint64(free / bsize),
		Files: 1 << 32, Ffree: 1<<32 - files, NameMax: ipc.NameMax}, nil
}

func (s *Server) access(c *srv.Call, r *ipc.FSAccessReq) (*ipc.FSEmpty, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	if r.Mask&^uint32(ipc.R_OK|ipc.W_OK|ipc.X_OK) != 0 {
		return nil, ipc.EINVAL
	}
	sv := c.Server()
	sv.RLock()
	defer sv.RUnlock()
	f, err := s.resolve(cred, r.At, r.Path, true)
	if err != nil {
		return nil, err
	}
	if f.in == nil {
		return nil, ipc.ENOENT
	}
	if r.Mask != ipc.F_OK && !can(cred, f.in, r.Mask) {
		return nil, ipc.EACCES
	}
	return &ipc.FSEmpty{}, nil
}
