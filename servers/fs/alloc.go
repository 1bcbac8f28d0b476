package fs

import (
	"context"
	"math"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// fallocate is fallocate(2): mode 0 stores zeros where the range holds
// nothing yet and extends the size to its end; FallocKeepSize does the
// same without changing the size; FallocPunchHole|FallocKeepSize zeroes
// the range, deleting the blocks it covers whole. The blocks are stored
// before the record that counts them, as a write's are.
func (s *Server) fallocate(c *srv.Call, r *ipc.FSFallocateReq) (*ipc.FSAttrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	keep, punch := r.Mode&ipc.FallocKeepSize != 0, r.Mode&ipc.FallocPunchHole != 0
	switch {
	case r.Mode&^(ipc.FallocKeepSize|ipc.FallocPunchHole) != 0, punch && !keep:
		return nil, &ipc.Error{Errno: ipc.ENOTSUP, Msg: "fallocate modes other than 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE are not supported"}
	case r.Off < 0 || r.Len <= 0:
		return nil, ipc.EINVAL
	case r.Off > math.MaxInt64-r.Len:
		return nil, ipc.EFBIG
	}
	lk := s.ioLock(r.Ino)
	lk.Lock()
	defer lk.Unlock()
	sv := c.Server()
	sv.RLock()
	in := s.st.Inodes[r.Ino]
	var size int64
	have := map[uint64]uint32{} // what the range's blocks hold now
	first, last := uint64(r.Off/BlockSize), uint64((r.Off+r.Len-1)/BlockSize)
	switch {
	case in == nil:
		err = ipc.ENOENT
	case in.isDir():
		err = ipc.EISDIR
	case in.Mode&ipc.S_IFMT == ipc.S_IFIFO:
		err = ipc.ESPIPE
	case !in.isReg():
		err = ipc.ENODEV
	default:
		err = s.ioAllowed(c, cred, in, ipc.W_OK)
		size = in.Size
		for blk, n := range in.Stored {
			if blk >= first && blk <= last {
				have[blk] = n
			}
		}
	}
	sv.RUnlock()
	if err != nil {
		return nil, err
	}
	rec := &sizeRec{Ino: r.Ino, Size: size, Time: now()}
	if punch {
		err = s.punch(r.Ino, r.Off, r.Off+r.Len, have, rec)
	} else {
		if !keep {
			rec.Size = max(size, r.Off+r.Len)
		}
		err = s.allocate(c, r.Ino, r.Off, r.Off+r.Len, have, rec)
	}
	if err != nil {
		return nil, err
	}
	sv.Lock()
	defer sv.Unlock()
	if s.st.Inodes[r.Ino] == nil { // reaped meanwhile
		return nil, ipc.ENOENT
	}
	if err := c.Commit(recSize, rec); err != nil {
		return nil, err
	}
	in = s.st.Inodes[r.Ino]
	s.notify(ipc.FSEventData, in, "")
	return &ipc.FSAttrRep{Attr: in.attr()}, nil
}

// allocate stores zeros in the blocks of [off, end) that hold less of it
// than the range asks, into rec.Blocks. Precondition: the inode's I/O lock
// is held.
func (s *Server) allocate(c *srv.Call, ino uint64, off, end int64, have map[uint64]uint32, rec *sizeRec) error {
	var need int64
	type want struct {
		blk uint64
		n   int64
	}
	var todo []want
	for blk := uint64(off / BlockSize); int64(blk)*BlockSize < end; blk++ {
		n := min(end-int64(blk)*BlockSize, BlockSize)
		if int64(have[blk]) < n {
			todo = append(todo, want{blk, n})
			need += allocated(uint32(n)) - allocated(have[blk])
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if total, used := s.space(c.Server()); used+need > total {
		return ipc.ENOSPC
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := s.blocks.batch()
	for _, w := range todo {
		block := zeros[:w.n] // never changed: the store and cache may keep it
		if have[w.blk] > 0 {
			old, err := s.blocks.get(ctx, ino, w.blk)
			if err != nil {
				return err
			}
			block = make([]byte, w.n)
			copy(block, old)
		}
		if err := b.put(ino, w.blk, block); err != nil {
			return err
		}
		rec.Blocks = append(rec.Blocks, blockLen{w.blk, uint32(w.n)})
		if err := b.spill(ctx); err != nil {
			return err
		}
	}
	return b.wait(ctx)
}

// punch zeroes [off, end): stored blocks inside it are deleted (rec.Drop),
// those it crosses have the part inside rewritten as zeros. Precondition:
// the inode's I/O lock is held.
func (s *Server) punch(ino uint64, off, end int64, have map[uint64]uint32, rec *sizeRec) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := s.blocks.batch()
	for blk, n := range have {
		start := int64(blk) * BlockSize
		lo, hi := max(off, start), min(end, start+int64(n))
		switch {
		case lo >= hi: // the stored bytes are outside the range
			continue
		case lo == start && hi == start+int64(n):
			if err := b.del(ino, blk); err != nil {
				return err
			}
			rec.Drop = append(rec.Drop, blk)
		default:
			old, err := s.blocks.get(ctx, ino, blk)
			if err != nil {
				return err
			}
			block := append([]byte(nil), old...)
			if int64(len(block)) > lo-start {
				clear(block[lo-start : min(hi-start, int64(len(block)))])
			}
			if err := b.put(ino, blk, block); err != nil {
				return err
			}
			rec.Blocks = append(rec.Blocks, blockLen{blk, uint32(len(block))})
		}
		if err := b.spill(ctx); err != nil {
			return err
		}
	}
	return b.wait(ctx)
}
