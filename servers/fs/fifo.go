package fs

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// A FIFO's I/O through libvos: FS keeps, per FIFO inode with opens, a pipe
// in memory (never journaled: a restart loses its bytes) of at most
// ipc.PipeSize bytes, counts of its readers and writers by open handle,
// and the opens, reads and writes that must wait as deferred replies
// (MINIX's SUSPEND), each held at most fifoPoll before it is answered
// EAGAIN and the caller asks again. Through the FUSE mount the kernel pipes
// a FIFO itself and FS sees none of it.

// fifoPoll bounds how long an open, read or write of a FIFO is held.
const fifoPoll = 5 * time.Second

// Kinds of fifoWait.
const (
	waitOpenR = iota // a read open waits for a writer
	waitOpenW        // a write open waits for a reader
	waitRead         // a read waits for bytes or for no writer
	waitWrite        // a write waits for room
)

// fifoHandle is one open of a FIFO.
type fifoHandle struct {
	ino         uint64
	read, write bool
	flags       int
}

// pipe is a FIFO's in-memory state.
type pipe struct {
	buf              []byte
	readers, writers int
	waits            []*fifoWait
}

// fifoWait is a parked call.
type fifoWait struct {
	kind  int
	h     *fifoHandle
	id    uint64         // the handle (an open's)
	open  *ipc.FSOpenRep // an open's reply
	n     int            // a read's length
	data  []byte         // a write's bytes
	d     *srv.Deferred
	timer *time.Timer
}

// fifos is the server's pipes and handles, under their own lock (taken
// after the state lock, never before it).
type fifos struct {
	mu      sync.Mutex
	pipes   map[uint64]*pipe
	handles map[uint64]*fifoHandle
}

// pipe returns ino's pipe, making it. Precondition: f.mu is held.
func (f *fifos) pipe(ino uint64) *pipe {
	if f.pipes == nil {
		f.pipes, f.handles = map[uint64]*pipe{}, map[uint64]*fifoHandle{}
	}
	p := f.pipes[ino]
	if p == nil {
		p = &pipe{}
		f.pipes[ino] = p
	}
	return p
}

// add registers a handle with id (a new one when 0). Precondition: f.mu
// is held.
func (f *fifos) add(ino uint64, flags int, id uint64) (uint64, *fifoHandle) {
	p := f.pipe(ino)
	acc := flags & ipc.O_ACCMODE
	h := &fifoHandle{ino: ino, read: acc != ipc.O_WRONLY, write: acc != ipc.O_RDONLY, flags: acc}
	for id == 0 || f.handles[id] != nil {
		id = rand.Uint64()
	}
	f.handles[id] = h
	if h.read {
		p.readers++
	}
	if h.write {
		p.writers++
	}
	return id, h
}

// drop ends a handle and answers what its end settles. Precondition: f.mu
// is held.
func (f *fifos) drop(id uint64) {
	h := f.handles[id]
	if h == nil {
		return
	}
	delete(f.handles, id)
	p := f.pipes[h.ino]
	if h.read {
		p.readers--
	}
	if h.write {
		p.writers--
	}
	f.wake(h.ino)
}

// wake answers the waits of ino's pipe that can be answered, in order, and
// forgets a pipe nobody has open (its bytes go, as Linux's). Precondition:
// f.mu is held.
func (f *fifos) wake(ino uint64) {
	p := f.pipes[ino]
	if p == nil {
		return
	}
	for progress := true; progress; {
		progress = false
		kept := p.waits[:0]
		writeBlocked := false
		for _, w := range p.waits {
			done := false
			switch w.kind {
			case waitOpenR:
				done = p.writers > 0
				if done {
					w.d.Respond(w.open, nil)
				}
			case waitOpenW:
				done = p.readers > 0
				if done {
					w.d.Respond(w.open, nil)
				}
			case waitRead:
				if len(p.buf) > 0 || p.writers == 0 {
					w.d.Respond(p.take(w.n), nil)
					done = true
				}
			case waitWrite:
				switch {
				case p.readers == 0:
					w.d.Respond(nil, ipc.EPIPE)
					done = true
				case !writeBlocked:
					if n := p.put(w.data); n > 0 {
						w.d.Respond(&ipc.FSFifoWriteRep{N: n}, nil)
						done = true
					} else {
						writeBlocked = true // later writes wait behind it
					}
				}
			}
			if done {
				w.timer.Stop()
				progress = true
			} else {
				kept = append(kept, w)
			}
		}
		clear(p.waits[len(kept):])
		p.waits = kept
	}
	if p.readers == 0 && p.writers == 0 && len(p.waits) == 0 {
		delete(f.pipes, ino)
	}
}

// take reads up to n bytes; none and EOF when the pipe is empty.
func (p *pipe) take(n int) *ipc.FSFifoReadRep {
	n = min(n, len(p.buf))
	rep := &ipc.FSFifoReadRep{Data: append([]byte(nil), p.buf[:n]...), EOF: n == 0}
	p.buf = append(p.buf[:0], p.buf[n:]...)
	return rep
}

// put writes what fits of data: all or nothing up to ipc.PipeBuf bytes.
func (p *pipe) put(data []byte) int {
	room := ipc.PipeSize - len(p.buf)
	if len(data) <= ipc.PipeBuf && room < len(data) {
		return 0
	}
	n := min(room, len(data))
	p.buf = append(p.buf, data[:n]...)
	return n
}

// park holds a call until wake answers it or fifoPoll passes (EAGAIN; a
// parked open gives its handle back). Precondition: f.mu is held.
func (f *fifos) park(s *Server, c *srv.Call, w *fifoWait) {
	w.d = c.Defer()
	p := f.pipes[w.h.ino]
	p.waits = append(p.waits, w)
	w.timer = time.AfterFunc(fifoPoll, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		p := f.pipes[w.h.ino]
		if p == nil {
			return
		}
		for i, x := range p.waits {
			if x == w {
				p.waits = append(p.waits[:i], p.waits[i+1:]...)
				w.d.Respond(nil, ipc.Errorf(ipc.EAGAIN, "the FIFO is still waiting; ask again"))
				if w.open != nil {
					s.closed(w.h.ino)
					f.drop(w.id)
				}
				f.wake(w.h.ino)
				return
			}
		}
	})
}

// openFIFO opens FIFO ino (access already checked): a handle, then at once
// or when the other side comes.
func (s *Server) openFIFO(c *srv.Call, flags int, attr ipc.Attr) (*ipc.FSOpenRep, error) {
	f := &s.fifo
	f.mu.Lock()
	defer f.mu.Unlock()
	acc, nb := flags&ipc.O_ACCMODE, flags&ipc.O_NONBLOCK != 0
	p := f.pipe(attr.Ino)
	if acc == ipc.O_WRONLY && nb && p.readers == 0 {
		f.wake(attr.Ino) // forgets the pipe just made
		return nil, ipc.ENXIO
	}
	id, h := f.add(attr.Ino, flags, 0)
	s.opened(attr.Ino)
	rep := &ipc.FSOpenRep{Attr: attr, Handle: id}
	f.wake(attr.Ino) // the other side's opens waiting for this one
	switch {
	case acc == ipc.O_RDWR, nb, acc == ipc.O_RDONLY && p.writers > 0, acc == ipc.O_WRONLY && p.readers > 0:
		return rep, nil
	}
	kind := waitOpenR
	if acc == ipc.O_WRONLY {
		kind = waitOpenW
	}
	f.park(s, c, &fifoWait{kind: kind, h: h, id: id, open: rep})
	return nil, nil
}

// opened and closed count an open of ino as other files' opens are
// counted (an unlinked FIFO lives until its last close).
func (s *Server) opened(ino uint64) {
	s.openMu.Lock()
	s.opens[ino]++
	s.openMu.Unlock()
}

func (s *Server) closed(ino uint64) {
	s.openMu.Lock()
	if s.opens[ino]--; s.opens[ino] <= 0 {
		delete(s.opens, ino)
	}
	s.openMu.Unlock()
}

// fifoHandle finds the handle a read or write names; one a restarted FS
// does not know is taken back after checking the caller's access again.
// It returns with s.fifo.mu held.
func (s *Server) fifoHandle(c *srv.Call, r *ipc.FSFifo) (*fifoHandle, error) {
	f := &s.fifo
	f.mu.Lock()
	if h := f.handles[r.Handle]; h != nil && r.Handle != 0 {
		if h.ino != r.Ino {
			f.mu.Unlock()
			return nil, ipc.EBADF
		}
		return h, nil
	}
	f.mu.Unlock()
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	var want uint32
	switch r.Flags & ipc.O_ACCMODE {
	case ipc.O_RDONLY:
		want = ipc.R_OK
	case ipc.O_WRONLY:
		want = ipc.W_OK
	case ipc.O_RDWR:
		want = ipc.R_OK | ipc.W_OK
	default:
		return nil, ipc.EINVAL
	}
	sv := c.Server()
	sv.RLock()
	in := s.st.Inodes[r.Ino]
	switch {
	case in == nil || r.Handle == 0:
		err = ipc.EBADF
	case in.Mode&ipc.S_IFMT != ipc.S_IFIFO:
		err = ipc.EINVAL
	case !can(cred, in, want):
		err = ipc.EACCES
	}
	sv.RUnlock()
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if h := f.handles[r.Handle]; h != nil {
		return h, nil
	}
	_, h := f.add(r.Ino, r.Flags, r.Handle)
	s.opened(r.Ino)
	return h, nil
}

// fifoRead is fs.fiforead.
func (s *Server) fifoRead(c *srv.Call, r *ipc.FSFifoReadReq) (*ipc.FSFifoReadRep, error) {
	if r.Len < 0 || r.Len > ipc.MaxIO {
		return nil, ipc.EINVAL
	}
	h, err := s.fifoHandle(c, &r.FSFifo)
	if err != nil {
		return nil, err
	}
	f := &s.fifo
	defer f.mu.Unlock()
	if !h.read {
		return nil, ipc.EBADF
	}
	p := f.pipes[h.ino]
	switch {
	case r.Len == 0:
		return &ipc.FSFifoReadRep{}, nil
	case len(p.buf) > 0:
		rep := p.take(r.Len)
		f.wake(h.ino) // writers waiting for room
		return rep, nil
	case p.writers == 0:
		return &ipc.FSFifoReadRep{EOF: true}, nil
	case r.NonBlock:
		return nil, ipc.EAGAIN
	}
	f.park(s, c, &fifoWait{kind: waitRead, h: h, n: r.Len})
	return nil, nil
}

// fifoWrite is fs.fifowrite.
func (s *Server) fifoWrite(c *srv.Call, r *ipc.FSFifoWriteReq) (*ipc.FSFifoWriteRep, error) {
	if len(r.Data) > ipc.MaxIO {
		return nil, ipc.EINVAL
	}
	h, err := s.fifoHandle(c, &r.FSFifo)
	if err != nil {
		return nil, err
	}
	f := &s.fifo
	defer f.mu.Unlock()
	if !h.write {
		return nil, ipc.EBADF
	}
	p := f.pipes[h.ino]
	if p.readers == 0 {
		return nil, ipc.EPIPE
	}
	if len(r.Data) == 0 {
		return &ipc.FSFifoWriteRep{}, nil
	}
	queued := false
	for _, w := range p.waits {
		queued = queued || w.kind == waitWrite
	}
	if !queued {
		if n := p.put(r.Data); n > 0 {
			f.wake(h.ino) // readers waiting for bytes
			return &ipc.FSFifoWriteRep{N: n}, nil
		}
	}
	if r.NonBlock {
		return nil, ipc.EAGAIN
	}
	f.park(s, c, &fifoWait{kind: waitWrite, h: h, data: r.Data})
	return nil, nil
}

// closeFIFO ends a FIFO handle: readers see EOF once no writer is left,
// writers EPIPE once no reader is.
func (s *Server) closeFIFO(handle uint64) {
	f := &s.fifo
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop(handle)
}

// fifoCount is how many FIFOs have a pipe.
func (s *Server) fifoCount() int {
	s.fifo.mu.Lock()
	defer s.fifo.mu.Unlock()
	return len(s.fifo.pipes)
}
