package fsclient

import (
	"context"
	"sync"

	"github.com/vos-os/vos/ipc"
)

// Read-ahead: once a file is read sequentially, raWindow chunks of
// raChunk..MaxIO bytes stay in flight ahead of the reader.
const (
	raWindow = 4
	raChunk  = 128 << 10
)

// ReadAhead serves a sequential reader of one file from messages sent
// ahead of it. Data fetched before a data change through the same Client
// (or its WithCred copies) started is never returned after it, so a
// process reads its own writes; changes by others are seen as a plain read
// would see them.
//
// A ReadAhead is not safe for concurrent use: its owner serializes Read,
// Reset and Close (libvos holds the open file's lock).
type ReadAhead struct {
	c       *Client
	ino     uint64
	lastEnd int64 // where the last Read ended: a Read from there is sequential
	size    int64 // the size the last reply reported
	ra      []*prefetch
	pending sync.WaitGroup // messages in flight
}

// NewReadAhead returns a read-ahead for ino, whose size the caller last
// saw was size (no read is sent before the first Read).
func (c *Client) NewReadAhead(ino uint64, size int64) *ReadAhead {
	return &ReadAhead{c: c, ino: ino, lastEnd: -1, size: size}
}

// Size is the file's size as the last reply reported it.
func (r *ReadAhead) Size() int64 { return r.size }

// prefetch is one read-ahead message.
type prefetch struct {
	off  int64
	want int
	buf  *[]byte
	data []byte // what was read, once done is closed
	size int64
	err  error
	done chan struct{}
	// gen is the Client's write starts when it was sent, +1, or 0 if a
	// write was in flight then: its data is stale once any write started.
	gen uint64
}

func (pf *prefetch) fresh(w *writes) bool { return pf.gen != 0 && w.start.Load()+1 == pf.gen }

func (pf *prefetch) release() {
	if pf.buf != nil {
		putChunk(pf.buf)
		pf.buf = nil
	}
}

// Read reads into p at off: from what was read ahead where it can, the
// rest with ReadAt. eof says the file ended before p was full. A Read at
// the offset where the last one ended tops the read-ahead window up; ctx
// bounds those messages too, so it should outlive the reader's next Read.
func (r *ReadAhead) Read(ctx context.Context, p []byte, off int64) (n int, eof bool, err error) {
	sequential := off == r.lastEnd
	if !sequential {
		r.Reset()
	}
	for n < len(p) && len(r.ra) > 0 {
		pf := r.ra[0]
		<-pf.done
		at := off + int64(n) - pf.off
		if pf.err != nil || !pf.fresh(r.c.w) || at < 0 || at > int64(len(pf.data)) {
			r.Reset()
			break
		}
		k := copy(p[n:], pf.data[at:])
		n += k
		r.size = pf.size
		if int(at)+k == len(pf.data) {
			r.ra = r.ra[1:]
			pf.release()
			if len(pf.data) < pf.want {
				eof = true
				r.Reset()
			}
		}
	}
	if n < len(p) && !eof {
		m, size, rerr := r.c.ReadAt(ctx, r.ino, p[n:], off+int64(n))
		n += m
		r.size = size
		if rerr != nil {
			r.Reset()
			return n, false, rerr
		}
		eof = n < len(p)
	}
	r.lastEnd = off + int64(n)
	if sequential && !eof {
		r.fill(ctx, len(p))
	}
	return n, eof, nil
}

// fill tops the window up after a read of readLen bytes ending at lastEnd.
func (r *ReadAhead) fill(ctx context.Context, readLen int) {
	chunk := min(max(2*readLen, raChunk), ipc.MaxIO)
	next := r.lastEnd
	if k := len(r.ra); k > 0 {
		next = r.ra[k-1].off + int64(r.ra[k-1].want)
	}
	for len(r.ra) < raWindow && next < r.size {
		// end before start: equal means no write was in flight.
		e := r.c.w.end.Load()
		s := r.c.w.start.Load()
		pf := &prefetch{off: next, want: chunk, buf: getChunk(), done: make(chan struct{})}
		if s == e {
			pf.gen = s + 1 // +1 keeps 0 free to mean "stale"
		}
		r.pending.Add(1)
		go func() {
			defer r.pending.Done()
			defer close(pf.done)
			n, size, err := r.c.Read(ctx, r.ino, (*pf.buf)[:pf.want], pf.off)
			pf.data, pf.size, pf.err = (*pf.buf)[:n], size, err
		}()
		r.ra = append(r.ra, pf)
		next += int64(chunk)
	}
}

// Reset forgets what was read ahead (the messages in flight finish on
// their own), so that the next Read is not taken as sequential. Call it
// when the reader moves or the file changes.
func (r *ReadAhead) Reset() {
	for _, pf := range r.ra {
		select {
		case <-pf.done:
			pf.release()
		default: // still being written into: leave the buffer to the GC
		}
	}
	r.ra = nil
	r.lastEnd = -1
}

// Close resets and waits for the messages in flight.
func (r *ReadAhead) Close() {
	r.Reset()
	r.pending.Wait()
}
