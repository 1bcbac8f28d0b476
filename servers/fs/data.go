package fs

import (
	"context"
	"sync"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// atimeEvery is relatime's bound: a read updates the access time when it
// is older than the modification time or than this.
const atimeEvery = 24 * time.Hour

// Process callers are checked on every read and write (they hold no open
// file the server could vouch for); kernel callers (FUSE, libvos in tools)
// were checked at open, as a file descriptor is.
func (s *Server) ioAllowed(c *srv.Call, cred *ipc.Cred, in *inode, want uint32) error {
	if c.Caller != ipc.CallerKernel && !can(cred, in, want) {
		return ipc.EACCES
	}
	return nil
}

func (s *Server) read(c *srv.Call, r *ipc.FSReadReq) (*ipc.FSReadRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	if r.Off < 0 || r.Len < 0 || r.Len > ipc.MaxIO {
		return nil, ipc.EINVAL
	}
	lk := s.ioLock(r.Ino)
	lk.RLock()
	defer lk.RUnlock()
	sv := c.Server()
	sv.RLock()
	in := s.st.Inodes[r.Ino]
	var size, atime, mtime int64
	if in != nil {
		err = s.ioAllowed(c, cred, in, ipc.R_OK)
		size, atime, mtime = in.Size, in.Atime, in.Mtime
		if in.isDir() {
			err = ipc.EISDIR
		} else if !in.isReg() {
			err = ipc.EINVAL
		}
	} else {
		err = ipc.ENOENT
	}
	sv.RUnlock()
	if err != nil {
		return nil, err
	}
	rep := &ipc.FSReadRep{Size: size}
	if r.Off < size && r.Len > 0 {
		n := min(int64(r.Len), size-r.Off)
		parts, err := s.readParts(r.Ino, r.Off, n)
		if err != nil {
			return nil, err
		}
		rep.Parts = parts
	}
	if t := now(); atime <= mtime || time.Duration(t-atime) > atimeEvery {
		sv.Lock()
		if in := s.st.Inodes[r.Ino]; in != nil && in.Atime == atime {
			err = c.Commit(recAtime, &inoRec{Ino: r.Ino, Time: t})
		}
		sv.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// zeros is what holes and the bytes past a short block read as.
var zeros = make([]byte, BlockSize)

// readParts returns the n bytes of the file at off as slices of its
// cached blocks (and of zeros for holes), fetching the blocks it spans
// concurrently; the reply encodes them without joining them. The slices
// must not be modified. Precondition: the inode's I/O lock is held.
func (s *Server) readParts(ino uint64, off, n int64) ([][]byte, error) {
	first, last := uint64(off/BlockSize), uint64((off+n-1)/BlockSize)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	blocks := make([][2][]byte, last-first+1) // per block: its data, then zeros after it
	fill := func(blk uint64) error {
		data, err := s.blocks.get(ctx, ino, blk)
		if err != nil {
			return err
		}
		start := int64(blk) * BlockSize
		lo, hi := max(off, start)-start, min(off+n, start+BlockSize)-start
		var have []byte
		if lo < int64(len(data)) {
			have = data[lo:min(hi, int64(len(data)))]
		}
		blocks[blk-first] = [2][]byte{have, zeros[:hi-lo-int64(len(have))]}
		return nil
	}
	if first == last {
		if err := fill(first); err != nil {
			return nil, err
		}
	} else {
		var wg sync.WaitGroup
		errs := make([]error, last-first+1)
		for blk := first; blk <= last; blk++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[blk-first] = fill(blk)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	parts := make([][]byte, 0, 2*len(blocks))
	for _, b := range blocks {
		for _, p := range b {
			if len(p) > 0 {
				parts = append(parts, p)
			}
		}
	}
	return parts, nil
}

func (s *Server) write(c *srv.Call, r *ipc.FSWriteReq) (*ipc.FSWriteRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	if r.Off < 0 || len(r.Data) > ipc.MaxIO {
		return nil, ipc.EINVAL
	}
	lk := s.ioLock(r.Ino)
	lk.Lock()
	defer lk.Unlock()
	sv := c.Server()
	sv.RLock()
	in := s.st.Inodes[r.Ino]
	var size int64
	var mode uint32
	switch {
	case in == nil:
		err = ipc.ENOENT
	case in.isDir():
		err = ipc.EISDIR
	case !in.isReg():
		err = ipc.EINVAL
	default:
		err = s.ioAllowed(c, cred, in, ipc.W_OK)
		size, mode = in.Size, in.Mode
	}
	sv.RUnlock()
	if err != nil {
		return nil, err
	}
	off := r.Off
	if r.Append {
		off = size
	}
	end := off + int64(len(r.Data))
	var stored []blockLen
	if len(r.Data) > 0 {
		if stored, err = s.writeBlocks(r.Ino, off, r.Data); err != nil {
			return nil, &ipc.Error{Errno: ipc.EIO, Msg: err.Error()}
		}
	} else {
		end = size // as Linux: writing nothing does not extend the file
	}
	sv.Lock()
	defer sv.Unlock()
	if s.st.Inodes[r.Ino] == nil { // reaped meanwhile: the bytes are garbage now
		return nil, ipc.ENOENT
	}
	// As Linux, a write by anyone but root clears set-user/group-ID.
	rec := &sizeRec{Ino: r.Ino, Size: max(size, end), Time: now(), Blocks: stored,
		KillSUID: cred.UID != 0 && mode&(ipc.S_ISUID|ipc.S_ISGID) != 0}
	if err := c.Commit(recSize, rec); err != nil {
		return nil, err
	}
	in = s.st.Inodes[r.Ino]
	s.notify(ipc.FSEventData, in, "")
	return &ipc.FSWriteRep{N: len(r.Data), Attr: in.attr()}, nil
}

// writeBlocks stores data at off: whole blocks as they are, partial ones
// merged with what they held. It returns the blocks it stored, with their
// lengths, for the record that makes them visible. Precondition: the
// inode's I/O lock is held (for writing).
func (s *Server) writeBlocks(ino uint64, off int64, data []byte) ([]blockLen, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := s.blocks.batch()
	var stored []blockLen
	for pos := int64(0); pos < int64(len(data)); {
		blk := uint64((off + pos) / BlockSize)
		start := int64(blk) * BlockSize
		in := off + pos - start // offset inside the block
		n := min(BlockSize-in, int64(len(data))-pos)
		var block []byte
		if in == 0 && n == BlockSize {
			block = data[pos : pos+n]
		} else {
			old, err := s.blocks.get(ctx, ino, blk)
			if err != nil {
				return nil, err
			}
			block = make([]byte, max(int64(len(old)), in+n))
			copy(block, old)
			copy(block[in:], data[pos:pos+n])
		}
		if err := b.put(ino, blk, block); err != nil {
			return nil, err
		}
		stored = append(stored, blockLen{blk, uint32(len(block))})
		pos += n
	}
	return stored, b.wait(ctx)
}

// truncate sets a regular file's size; shrinking clears the store past the
// new end before the call returns. The caller checked permission.
func (s *Server) truncate(c *srv.Call, cred *ipc.Cred, ino uint64, size int64) error {
	lk := s.ioLock(ino)
	lk.Lock()
	sv := c.Server()
	sv.Lock()
	in := s.st.Inodes[ino]
	if in == nil {
		sv.Unlock()
		lk.Unlock()
		return ipc.ENOENT
	}
	rec := &sizeRec{Ino: ino, Size: size, Time: now(), Truncated: true,
		KillSUID: cred.UID != 0 && in.Mode&(ipc.S_ISUID|ipc.S_ISGID) != 0}
	err := c.Commit(recSize, rec)
	if err == nil {
		s.notify(ipc.FSEventData, s.st.Inodes[ino], "")
	}
	sv.Unlock()
	lk.Unlock()
	if err != nil {
		return err
	}
	return s.clearPending(sv, ino)
}

// clearPending clears what the journal says the store still holds past an
// inode's end, if anything.
func (s *Server) clearPending(sv *srv.Server, ino uint64) error {
	sv.RLock()
	p, ok := s.st.Pending[ino]
	sv.RUnlock()
	if !ok {
		return nil
	}
	return s.clear(p)
}

// clear removes the bytes [From, To) of an inode from the store: the tail
// of a partial first block is cut, whole blocks are deleted (all of them
// with one purge when the file is gone), and the journal is told.
func (s *Server) clear(p pending) error {
	lk := s.ioLock(p.Ino)
	lk.Lock()
	defer lk.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sv := s.srv
	sv.RLock()
	in := s.st.Inodes[p.Ino]
	from := p.From
	if in != nil && in.Size > from { // grew again since: keep what is valid
		from = in.Size
	}
	sv.RUnlock()
	if in == nil || from == 0 {
		if err := s.blocks.purgeAll(ctx, p.Ino); err != nil {
			return err
		}
	} else if from < p.To {
		b := s.blocks.batch()
		blk := uint64(from / BlockSize)
		if cut := from % BlockSize; cut != 0 {
			old, err := s.blocks.get(ctx, p.Ino, blk)
			if err != nil {
				return err
			}
			if int64(len(old)) > cut {
				if err := b.put(p.Ino, blk, append([]byte(nil), old[:cut]...)); err != nil {
					return err
				}
			}
			blk++
		}
		// Delete only the blocks that exist: a sparse file may span far
		// more blocks than it stores.
		stored, err := s.blocks.stored(ctx, p.Ino)
		if err != nil {
			return err
		}
		for _, k := range stored {
			if k < blk || int64(k)*BlockSize >= p.To {
				continue
			}
			if err := b.del(p.Ino, k); err != nil {
				return err
			}
			if err := b.spill(ctx); err != nil {
				return err
			}
		}
		if err := b.wait(ctx); err != nil {
			return err
		}
	}
	sv.Lock()
	defer sv.Unlock()
	return sv.Commit(recCleared, &clearedRec{Ino: p.Ino, Upto: p.To})
}
