package fsclient

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/vos-os/vos/ipc"
)

// The copies return two errors because their callers report them
// differently: fsErr is the FS server's (or the connection's), ioErr the
// other side's (w's or r's), passed on as it is.

// WriteTo copies the file from off to w in MaxIO reads, keeping up to
// Inflight in flight (never past the size the server reported), until end
// of file. n is what w took.
func (c *Client) WriteTo(ctx context.Context, ino uint64, off int64, w io.Writer) (n int64, fsErr, ioErr error) {
	type chunk struct {
		buf  *[]byte
		n    int
		size int64
		err  error
		done chan struct{}
	}
	var q []*chunk
	defer func() {
		for _, ch := range q {
			<-ch.done
			putChunk(ch.buf)
		}
	}()
	next := off
	issue := func() {
		ch := &chunk{buf: getChunk(), done: make(chan struct{})}
		at := next
		go func() {
			defer close(ch.done)
			ch.n, ch.size, ch.err = c.Read(ctx, ino, *ch.buf, at)
		}()
		q = append(q, ch)
		next += ipc.MaxIO
	}
	issue()
	for len(q) > 0 {
		ch := q[0]
		<-ch.done
		q = q[1:]
		if ch.err != nil {
			putChunk(ch.buf)
			return n, ch.err, nil
		}
		m, err := w.Write((*ch.buf)[:ch.n])
		putChunk(ch.buf)
		n += int64(m)
		if err != nil {
			return n, nil, err
		}
		if ch.n < ipc.MaxIO {
			break // end of file
		}
		// Keep the window full, up to the size the server reported.
		for len(q) < Inflight && next < ch.size {
			issue()
		}
	}
	return n, nil, nil
}

// ReadFrom copies r to the file at off in MaxIO writes (each a full chunk
// of r, but the last), up to Inflight in flight, until r ends. n is the
// length of the prefix known written.
func (c *Client) ReadFrom(ctx context.Context, ino uint64, off int64, r io.Reader) (n int64, fsErr, ioErr error) {
	c.w.start.Add(1)
	defer c.w.end.Add(1)
	type chunk struct {
		want, n int
		err     error
	}
	var (
		cs     []*chunk
		wg     sync.WaitGroup
		failed atomic.Bool
		sem    = make(chan struct{}, Inflight)
	)
	for !failed.Load() {
		buf := getChunk()
		m, err := io.ReadFull(r, *buf)
		if m > 0 {
			ch := &chunk{want: m}
			cs = append(cs, ch)
			sem <- struct{}{}
			wg.Add(1)
			go func(off int64) {
				defer wg.Done()
				ch.n, _, ch.err = c.writeFull(ctx, ino, (*buf)[:m], off, false)
				if ch.err != nil {
					failed.Store(true)
				}
				putChunk(buf)
				<-sem
			}(off)
			off += int64(m)
		} else {
			putChunk(buf)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			ioErr = err
			break
		}
	}
	wg.Wait()
	for _, ch := range cs {
		n += int64(ch.n)
		if ch.err != nil {
			return n, ch.err, nil
		}
	}
	return n, nil, ioErr
}
