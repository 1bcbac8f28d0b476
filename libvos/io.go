package libvos

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/vos-os/vos/ipc"
)

// inflight is how many MaxIO messages one large read or write keeps in
// flight: enough to hide a round trip behind the transfer of the others,
// few enough not to swamp the FS server's workers.
const inflight = 8

// chunkPool recycles MaxIO buffers for read-ahead and ReadFrom.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, ipc.MaxIO); return &b }}

func getChunk() *[]byte  { return chunkPool.Get().(*[]byte) }
func putChunk(b *[]byte) { chunkPool.Put(b) }

// readChunk reads into p (at most MaxIO bytes) at off with one message.
// The reply's data is decoded straight into p. It returns the bytes read
// and the file's size as the server saw it.
func (o *OS) readChunk(ino uint64, p []byte, off int64) (int, int64, error) {
	rep := ipc.FSReadRep{Data: p[:0:len(p)]} // capped: a long reply cannot spill past p
	if err := o.call(ipc.OpFSRead, &ipc.FSReadReq{Ino: ino, Off: off, Len: len(p)}, &rep); err != nil {
		return 0, 0, err
	}
	n := min(len(rep.Data), len(p))
	if n > 0 && &rep.Data[0] != &p[0] {
		copy(p, rep.Data[:n])
	}
	return n, rep.Size, nil
}

// readAt fills p from off, splitting it into MaxIO messages of which up to
// inflight are in flight at once. n < len(p) with a nil error means end of
// file. size is the file's size as the last message saw it.
func (o *OS) readAt(ino uint64, p []byte, off int64) (n int, size int64, err error) {
	if len(p) <= ipc.MaxIO {
		return o.readChunk(ino, p, off)
	}
	type result struct {
		n    int
		size int64
		err  error
	}
	chunks := (len(p) + ipc.MaxIO - 1) / ipc.MaxIO
	rs := make([]result, chunks)
	var next atomic.Int64
	var stop atomic.Int64 // chunks after a short or failed one are not read
	stop.Store(int64(chunks))
	var wg sync.WaitGroup
	for range min(inflight, chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= stop.Load() {
					return
				}
				lo := int(i) * ipc.MaxIO
				hi := min(lo+ipc.MaxIO, len(p))
				m, sz, err := o.readChunk(ino, p[lo:hi], off+int64(lo))
				rs[i] = result{m, sz, err}
				if err != nil || m < hi-lo {
					for s := stop.Load(); i < s && !stop.CompareAndSwap(s, i); s = stop.Load() {
					}
				}
			}
		}()
	}
	wg.Wait()
	for i, r := range rs[:min(int(stop.Load())+1, chunks)] {
		n += r.n
		size = r.size
		if r.err != nil {
			return n, size, r.err
		}
		if r.n < min(ipc.MaxIO, len(p)-i*ipc.MaxIO) {
			break
		}
	}
	return n, size, nil
}

// writeChunk writes p (at most MaxIO bytes) at off, or at the end with
// appendMode. A short answer without an error is continued; the returned
// attributes are the last reply's.
func (o *OS) writeChunk(ino uint64, p []byte, off int64, appendMode bool) (int, *ipc.Attr, error) {
	n := 0
	var rep ipc.FSWriteRep
	for n < len(p) {
		rep = ipc.FSWriteRep{}
		if err := o.call(ipc.OpFSWrite, &ipc.FSWriteReq{Ino: ino, Off: off + int64(n), Data: p[n:], Append: appendMode}, &rep); err != nil {
			return n, nil, err
		}
		if rep.N <= 0 || rep.N > len(p)-n {
			return n, nil, io.ErrShortWrite
		}
		n += rep.N
	}
	return n, &rep.Attr, nil
}

// writeAt writes p at off in MaxIO messages, up to inflight at once. n is
// the length of the prefix known written: short only with an error.
func (o *OS) writeAt(ino uint64, p []byte, off int64) (n int, err error) {
	o.wstart.Add(1)
	defer o.wend.Add(1)
	if len(p) <= ipc.MaxIO {
		n, _, err = o.writeChunk(ino, p, off, false)
		return n, err
	}
	type result struct {
		n   int
		err error
	}
	chunks := (len(p) + ipc.MaxIO - 1) / ipc.MaxIO
	rs := make([]result, chunks)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(inflight, chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= int64(chunks) {
					return
				}
				lo := int(i) * ipc.MaxIO
				hi := min(lo+ipc.MaxIO, len(p))
				m, _, err := o.writeChunk(ino, p[lo:hi], off+int64(lo), false)
				rs[i] = result{m, err}
				if err != nil {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for i, r := range rs {
		n += r.n
		if r.err != nil {
			return n, r.err
		}
		if r.n < min(ipc.MaxIO, len(p)-i*ipc.MaxIO) {
			// Not attempted because an earlier-started chunk failed later.
			return n, io.ErrShortWrite
		}
	}
	return n, nil
}

// appendAll appends p in MaxIO messages, one after the other (concurrent
// appends could land out of order), and returns the file's size after.
func (o *OS) appendAll(ino uint64, p []byte) (n int, size int64, err error) {
	o.wstart.Add(1)
	defer o.wend.Add(1)
	for n < len(p) {
		hi := min(n+ipc.MaxIO, len(p))
		m, attr, err := o.writeChunk(ino, p[n:hi], 0, true)
		n += m
		if err != nil {
			return n, 0, err
		}
		size = attr.Size
	}
	return n, size, nil
}
