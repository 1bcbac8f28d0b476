package fsclient

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/vos-os/vos/ipc"
)

// Inflight is how many MaxIO messages one large read, write or copy keeps
// in flight: enough to hide a round trip behind the transfer of the
// others, few enough not to swamp the FS server's workers.
const Inflight = 8

// chunkPool recycles MaxIO buffers for read-ahead and copies.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, ipc.MaxIO); return &b }}

func getChunk() *[]byte  { return chunkPool.Get().(*[]byte) }
func putChunk(b *[]byte) { chunkPool.Put(b) }

// Read reads into p (at most MaxIO bytes) at off with one message, decoded
// straight into p. It returns the bytes read (fewer than len(p) only at end
// of file) and the file's size as the server saw it.
func (c *Client) Read(ctx context.Context, ino uint64, p []byte, off int64) (int, int64, error) {
	rep := ipc.FSReadRep{Data: p[:0:len(p)]} // capped: a long reply cannot spill past p
	if err := c.Call(ctx, ipc.OpFSRead, &ipc.FSReadReq{Ino: ino, Off: off, Len: len(p)}, &rep); err != nil {
		return 0, 0, err
	}
	n := min(len(rep.Data), len(p))
	if n > 0 && &rep.Data[0] != &p[0] {
		copy(p, rep.Data[:n])
	}
	return n, rep.Size, nil
}

// ReadAt fills p from off in MaxIO messages, up to Inflight at once.
// n < len(p) with a nil error means end of file. size is the file's size
// as the last message saw it.
func (c *Client) ReadAt(ctx context.Context, ino uint64, p []byte, off int64) (n int, size int64, err error) {
	if len(p) <= ipc.MaxIO {
		return c.Read(ctx, ino, p, off)
	}
	type result struct {
		n    int
		size int64
		err  error
	}
	rs := make([]result, chunks(len(p)))
	stop := parallel(len(rs), func(i int) bool {
		lo, hi := span(i, len(p))
		m, sz, err := c.Read(ctx, ino, p[lo:hi], off+int64(lo))
		rs[i] = result{m, sz, err}
		return err == nil && m == hi-lo // past a short chunk is end of file
	})
	for i, r := range rs[:min(stop+1, len(rs))] {
		n += r.n
		size = r.size
		if r.err != nil {
			return n, size, r.err
		}
		if lo, hi := span(i, len(p)); r.n < hi-lo {
			break
		}
	}
	return n, size, nil
}

// ReadAll reads the whole file, in one pipelined ReadAt when sizeHint (the
// size the caller last saw) is still right.
func (c *Client) ReadAll(ctx context.Context, ino uint64, sizeHint int64) ([]byte, error) {
	// +512 notices a file that grew since without another round trip.
	buf := make([]byte, max(sizeHint, 0)+512)
	n := 0
	for {
		m, _, err := c.ReadAt(ctx, ino, buf[n:], int64(n))
		n += m
		if err != nil {
			return buf[:n], err
		}
		if n < len(buf) {
			return buf[:n], nil
		}
		buf = append(buf, make([]byte, len(buf))...)
	}
}

// Write writes p (at most MaxIO bytes) with one message at off, or at the
// end of the file with appendMode. It returns what the server says it
// wrote and the attributes after.
func (c *Client) Write(ctx context.Context, ino uint64, p []byte, off int64, appendMode bool) (int, *ipc.Attr, error) {
	c.w.start.Add(1)
	defer c.w.end.Add(1)
	return c.write(ctx, ino, p, off, appendMode)
}

func (c *Client) write(ctx context.Context, ino uint64, p []byte, off int64, appendMode bool) (int, *ipc.Attr, error) {
	var rep ipc.FSWriteRep
	if err := c.Call(ctx, ipc.OpFSWrite, &ipc.FSWriteReq{Ino: ino, Off: off, Data: p, Append: appendMode}, &rep); err != nil {
		return 0, nil, err
	}
	return rep.N, &rep.Attr, nil
}

// writeFull writes p (at most MaxIO bytes), continuing a short answer that
// has no error. The attributes are the last reply's.
func (c *Client) writeFull(ctx context.Context, ino uint64, p []byte, off int64, appendMode bool) (int, *ipc.Attr, error) {
	n := 0
	var attr *ipc.Attr
	for n < len(p) {
		m, a, err := c.write(ctx, ino, p[n:], off+int64(n), appendMode)
		if err != nil {
			return n, nil, err
		}
		if m <= 0 || m > len(p)-n {
			return n, nil, io.ErrShortWrite
		}
		n, attr = n+m, a
	}
	return n, attr, nil
}

// WriteAt writes p at off in MaxIO messages, up to Inflight at once. n is
// the length of the prefix known written: short only with an error.
func (c *Client) WriteAt(ctx context.Context, ino uint64, p []byte, off int64) (n int, err error) {
	c.w.start.Add(1)
	defer c.w.end.Add(1)
	if len(p) <= ipc.MaxIO {
		n, _, err = c.writeFull(ctx, ino, p, off, false)
		return n, err
	}
	type result struct {
		n   int
		err error
	}
	rs := make([]result, chunks(len(p)))
	parallel(len(rs), func(i int) bool {
		lo, hi := span(i, len(p))
		m, _, err := c.writeFull(ctx, ino, p[lo:hi], off+int64(lo), false)
		rs[i] = result{m, err}
		return err == nil
	})
	for i, r := range rs {
		n += r.n
		if r.err != nil {
			return n, r.err
		}
		if lo, hi := span(i, len(p)); r.n < hi-lo {
			// Not attempted because an earlier-started chunk failed later.
			return n, io.ErrShortWrite
		}
	}
	return n, nil
}

// Append appends p in MaxIO messages, one after the other (concurrent
// appends could land out of order), and returns the file's size after.
func (c *Client) Append(ctx context.Context, ino uint64, p []byte) (n int, size int64, err error) {
	c.w.start.Add(1)
	defer c.w.end.Add(1)
	for n < len(p) {
		hi := min(n+ipc.MaxIO, len(p))
		m, attr, err := c.writeFull(ctx, ino, p[n:hi], 0, true)
		n += m
		if err != nil {
			return n, 0, err
		}
		size = attr.Size
	}
	return n, size, nil
}

// chunks is how many MaxIO messages carry n bytes.
func chunks(n int) int { return (n + ipc.MaxIO - 1) / ipc.MaxIO }

// span is the byte range [lo, hi) of chunk i of n bytes.
func span(i, n int) (lo, hi int) {
	lo = i * ipc.MaxIO
	return lo, min(lo+ipc.MaxIO, n)
}

// parallel runs do(i) for i in [0, n), taking them in order, at most
// Inflight at once. Once do(i) returns false, no index above i is started
// (those already started finish). It returns the lowest such i, or n.
func parallel(n int, do func(i int) bool) int {
	var next atomic.Int64
	var stop atomic.Int64
	stop.Store(int64(n))
	var wg sync.WaitGroup
	for range min(Inflight, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= stop.Load() {
					return
				}
				if !do(int(i)) {
					for s := stop.Load(); i < s && !stop.CompareAndSwap(s, i); s = stop.Load() {
					}
				}
			}
		}()
	}
	wg.Wait()
	return int(stop.Load())
}
