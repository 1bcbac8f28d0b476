package fs_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/vos-os/vos/ipc"
)

// fifoOpen opens a FIFO, returning its handle; done receives the open's
// error when it answers (the open may be held).
func (f fsc) fifoOpen(path string, flags int) (ipc.FSFifo, error) {
	var rep ipc.FSOpenRep
	if err := f.call(ipc.OpFSOpen, &ipc.FSOpenReq{Path: path, Flags: flags}, &rep); err != nil {
		return ipc.FSFifo{}, err
	}
	if rep.Handle == 0 {
		f.t.Fatalf("open of FIFO %s: no handle", path)
	}
	return ipc.FSFifo{Ino: rep.Attr.Ino, Handle: rep.Handle, Flags: flags & ipc.O_ACCMODE}, nil
}

func (f fsc) fifoRead(h ipc.FSFifo, n int, nonblock bool) (*ipc.FSFifoReadRep, error) {
	var rep ipc.FSFifoReadRep
	err := f.call(ipc.OpFSFifoRead, &ipc.FSFifoReadReq{FSFifo: h, Len: n, NonBlock: nonblock}, &rep)
	return &rep, err
}

func (f fsc) fifoWrite(h ipc.FSFifo, data []byte, nonblock bool) (int, error) {
	var rep ipc.FSFifoWriteRep
	err := f.call(ipc.OpFSFifoWrite, &ipc.FSFifoWriteReq{FSFifo: h, Data: data, NonBlock: nonblock}, &rep)
	return rep.N, err
}

func (f fsc) fifoClose(h ipc.FSFifo) {
	f.t.Helper()
	f.must(ipc.OpFSClose, &ipc.FSCloseReq{Ino: h.Ino, Handle: h.Handle}, nil)
}

// async runs fn and returns a channel of its error.
func async(fn func() error) chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

func settled(t *testing.T, what string, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(8 * time.Second):
		t.Fatalf("%s: still waiting", what)
		return nil
	}
}

func pending(t *testing.T, what string, ch chan error) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s answered (%v) while it should wait", what, err)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestFIFO: a FIFO's pipe in FS, as root and as a uid-1000 caller.
func TestFIFO(t *testing.T) {
	root, _ := setup(t, "name: t\n")
	user := fsc{t: t, c: root.c.WithCred(&ipc.Cred{UID: 1000, GID: 1000})}
	root.must(ipc.OpFSMknod, &ipc.FSMknodReq{Path: "/tmp/p", Mode: ipc.S_IFIFO | 0o666}, nil)
	root.must(ipc.OpFSMknod, &ipc.FSMknodReq{Path: "/tmp/mine", Mode: ipc.S_IFIFO | 0o600}, nil)

	for _, who := range []struct {
		name   string
		r, w   fsc
		reader string
	}{{"root", root, root, "/tmp/p"}, {"uid 1000", user, root, "/tmp/p"}} {
		t.Run(who.name, func(t *testing.T) {
			r, w := who.r, who.w
			r.t, w.t = t, t
			// O_NONBLOCK: a write open with no reader says ENXIO; a
			// read open succeeds at once and reads EOF (no writer).
			if _, err := w.fifoOpen("/tmp/p", ipc.O_WRONLY|ipc.O_NONBLOCK); !errors.Is(err, ipc.ENXIO) {
				t.Fatalf("non-blocking write open without a reader: %v", err)
			}
			nb, err := r.fifoOpen("/tmp/p", ipc.O_RDONLY|ipc.O_NONBLOCK)
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := r.fifoRead(nb, 10, true); err != nil || !rep.EOF {
				t.Errorf("read with no writer: %+v %v", rep, err)
			}
			r.fifoClose(nb)

			// A read open waits for a writer, and the writer's open for
			// nothing then.
			var rh ipc.FSFifo
			opened := async(func() (err error) { rh, err = r.fifoOpen("/tmp/p", ipc.O_RDONLY); return })
			pending(t, "read open without a writer", opened)
			wh, err := w.fifoOpen("/tmp/p", ipc.O_WRONLY)
			if err != nil {
				t.Fatal(err)
			}
			if err := settled(t, "read open", opened); err != nil {
				t.Fatal(err)
			}
			// A read waits while the pipe is empty, or says EAGAIN.
			if _, err := r.fifoRead(rh, 10, true); !errors.Is(err, ipc.EAGAIN) {
				t.Errorf("non-blocking read of an empty pipe: %v", err)
			}
			var got *ipc.FSFifoReadRep
			read := async(func() (err error) { got, err = r.fifoRead(rh, 100, false); return })
			pending(t, "read of an empty pipe", read)
			if n, err := w.fifoWrite(wh, []byte("hello"), false); n != 5 || err != nil {
				t.Fatalf("write: %d %v", n, err)
			}
			if err := settled(t, "read", read); err != nil || string(got.Data) != "hello" {
				t.Fatalf("read: %+v %v", got, err)
			}
			// Fill the pipe: a write past PipeSize takes what fits; an
			// atomic write that does not fit waits, or says EAGAIN.
			big := bytes.Repeat([]byte("x"), ipc.PipeSize+100)
			if n, err := w.fifoWrite(wh, big, false); n != ipc.PipeSize || err != nil {
				t.Fatalf("write of %d bytes into an empty pipe: %d %v", len(big), n, err)
			}
			if _, err := w.fifoWrite(wh, []byte("y"), true); !errors.Is(err, ipc.EAGAIN) {
				t.Errorf("non-blocking write into a full pipe: %v", err)
			}
			atomic := bytes.Repeat([]byte("a"), ipc.PipeBuf)
			wrote := async(func() error {
				n, err := w.fifoWrite(wh, atomic, false)
				if err == nil && n != len(atomic) {
					t.Errorf("atomic write: %d", n)
				}
				return err
			})
			pending(t, "write into a full pipe", wrote)
			// Reading less than PipeBuf frees too little for it.
			if rep, err := r.fifoRead(rh, 100, false); err != nil || len(rep.Data) != 100 {
				t.Fatalf("read: %d %v", len(rep.Data), err)
			}
			pending(t, "atomic write with 100 bytes free", wrote)
			if rep, err := r.fifoRead(rh, ipc.PipeBuf, false); err != nil || len(rep.Data) != ipc.PipeBuf {
				t.Fatalf("read: %d %v", len(rep.Data), err)
			}
			if err := settled(t, "atomic write", wrote); err != nil {
				t.Fatal(err)
			}
			// Drain: the atomic write's bytes come last, whole.
			var all []byte
			for len(all) < ipc.PipeSize-100-ipc.PipeBuf+ipc.PipeBuf {
				rep, err := r.fifoRead(rh, ipc.MaxIO, false)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, rep.Data...)
			}
			if !bytes.HasSuffix(all, atomic) || bytes.Count(all, []byte("a")) != ipc.PipeBuf {
				t.Errorf("drained %d bytes, not ending in the atomic write", len(all))
			}
			// The writer's close: a waiting read sees EOF.
			read = async(func() (err error) { got, err = r.fifoRead(rh, 100, false); return })
			pending(t, "read of an empty pipe", read)
			w.fifoClose(wh)
			if err := settled(t, "read at the writer's close", read); err != nil || !got.EOF || len(got.Data) != 0 {
				t.Errorf("read after the last writer closed: %+v %v", got, err)
			}
			// A write with no reader says EPIPE; a waiting write too
			// when the reader goes.
			wh, err = w.fifoOpen("/tmp/p", ipc.O_WRONLY)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := w.fifoWrite(wh, big, false); n != ipc.PipeSize || err != nil {
				t.Fatalf("fill: %d %v", n, err)
			}
			wrote = async(func() error { _, err := w.fifoWrite(wh, []byte("z"), false); return err })
			pending(t, "write into a full pipe", wrote)
			r.fifoClose(rh)
			if err := settled(t, "write at the reader's close", wrote); !errors.Is(err, ipc.EPIPE) {
				t.Errorf("write waiting when the last reader closed: %v", err)
			}
			if _, err := w.fifoWrite(wh, []byte("z"), false); !errors.Is(err, ipc.EPIPE) {
				t.Errorf("write with no reader: %v", err)
			}
			// Reads through a write-only handle say EBADF.
			if _, err := w.fifoRead(wh, 1, true); !errors.Is(err, ipc.EBADF) {
				t.Errorf("read of a write-only handle: %v", err)
			}
			w.fifoClose(wh)
		})
	}

	// Permissions: uid 1000 may not open root's 0600 FIFO, nor take back
	// a handle on it after a restart.
	if _, err := user.fifoOpen("/tmp/mine", ipc.O_RDWR); !errors.Is(err, ipc.EACCES) {
		t.Errorf("uid 1000 open of a 0600 FIFO of root: %v", err)
	}
	mine := root.stat("/tmp/mine")
	if _, err := user.fifoRead(ipc.FSFifo{Ino: mine.Ino, Handle: 12345, Flags: ipc.O_RDONLY}, 1, true); !errors.Is(err, ipc.EACCES) {
		t.Errorf("uid 1000 read through a handle FS does not know: %v", err)
	}
	// O_RDWR waits for nothing, and the bytes stay until read.
	h, err := root.fifoOpen("/tmp/mine", ipc.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := root.fifoWrite(h, []byte("self"), false); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	if rep, err := root.fifoRead(h, 10, false); err != nil || string(rep.Data) != "self" {
		t.Errorf("O_RDWR round trip: %+v %v", rep, err)
	}
	root.fifoClose(h)
}
