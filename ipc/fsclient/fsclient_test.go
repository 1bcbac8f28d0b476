package fsclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/ipc/fsclient"
)

// fakeFS serves fs.read and fs.write for one file (any inode)
// held in memory, counting messages and the most in flight per op. Writes
// at or past failAt fail with EIO. With gate set, requests are held until
// gate of them are in flight at once (or 2 s passed), so that pipelining
// shows however slowly the machine schedules the client.
type fakeFS struct {
	mu       sync.Mutex
	data     []byte
	failAt   int64
	gate     int
	count    map[ipc.Op]int
	inflight map[ipc.Op]int
	most     map[ipc.Op]int
	extra    int // bytes a read reply carries beyond what was asked
}

var bg = context.Background()

const inst = "t"

func newFake(t *testing.T) (*fakeFS, *fsclient.Client) {
	t.Helper()
	ns := testutil.NATS(t, false)
	f := &fakeFS{failAt: -1, count: map[ipc.Op]int{}, inflight: map[ipc.Op]int{}, most: map[ipc.Op]int{}}
	svc, err := ipc.Serve(testutil.Connect(t, ns), ipc.ServerEndpoint(inst, ipc.RoleFS), f.serve, ipc.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return f, fsclient.New(ipc.NewConn(testutil.Connect(t, ns), "k"), inst)
}

func (f *fakeFS) serve(m *ipc.Msg) {
	f.mu.Lock()
	f.count[m.Op]++
	f.inflight[m.Op]++
	f.most[m.Op] = max(f.most[m.Op], f.inflight[m.Op])
	f.mu.Unlock()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		f.mu.Lock()
		if f.inflight[m.Op] >= f.gate {
			f.gate = 0 // open for good: the rest of the burst must not wait
		}
		open := f.gate == 0
		f.mu.Unlock()
		if open {
			break
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// No longer in flight once answered: the client may send its next
	// request as soon as it has the reply.
	respond := func(rep any, err error) {
		f.inflight[m.Op]--
		m.Respond(rep, err)
	}
	switch m.Op {
	case ipc.OpFSRead:
		var req ipc.FSReadReq
		if err := m.Decode(&req); err != nil {
			respond(nil, err)
			return
		}
		lo := min(req.Off, int64(len(f.data)))
		hi := min(req.Off+int64(req.Len+f.extra), int64(len(f.data)))
		respond(&ipc.FSReadRep{Data: f.data[lo:hi], Size: int64(len(f.data))}, nil)
	case ipc.OpFSWrite:
		var req ipc.FSWriteReq
		if err := m.Decode(&req); err != nil {
			respond(nil, err)
			return
		}
		if req.Append {
			req.Off = int64(len(f.data))
		}
		if f.failAt >= 0 && req.Off+int64(len(req.Data)) > f.failAt {
			respond(nil, ipc.EIO)
			return
		}
		if end := req.Off + int64(len(req.Data)); end > int64(len(f.data)) {
			f.data = append(f.data, make([]byte, end-int64(len(f.data)))...)
		}
		copy(f.data[req.Off:], req.Data)
		respond(&ipc.FSWriteRep{N: len(req.Data), Attr: ipc.Attr{Ino: req.Ino, Size: int64(len(f.data))}}, nil)
	default:
		respond(nil, ipc.ENOSYS)
	}
}

func (f *fakeFS) stats(op ipc.Op) (count, most int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[op], f.most[op]
}

func (f *fakeFS) reset() {
	f.mu.Lock()
	clear(f.count)
	clear(f.most)
	f.mu.Unlock()
}

func (f *fakeFS) set(fn func(f *fakeFS)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func randBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// TestReadWriteAt checks the splitting into MaxIO messages, several in
// flight, and end of file.
func TestReadWriteAt(t *testing.T) {
	f, c := newFake(t)
	f.set(func(f *fakeFS) { f.gate = 4 })
	size := 5*ipc.MaxIO + ipc.MaxIO/2
	data := randBytes(size, 1)
	if n, err := c.WriteAt(bg, 7, data, 0); n != size || err != nil {
		t.Fatalf("WriteAt: %d, %v", n, err)
	}
	if count, most := f.stats(ipc.OpFSWrite); count != 6 || most < 4 {
		t.Errorf("WriteAt of 5.5 MiB: %d messages, at most %d in flight; want 6, at least 4", count, most)
	}
	f.set(func(f *fakeFS) { f.gate = 4 })
	got := make([]byte, size)
	if n, sz, err := c.ReadAt(bg, 7, got, 0); n != size || sz != int64(size) || err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAt: %d, size %d, %v, equal %v", n, sz, err, bytes.Equal(got, data))
	}
	if count, most := f.stats(ipc.OpFSRead); count != 6 || most < 4 {
		t.Errorf("ReadAt of 5.5 MiB: %d messages, at most %d in flight; want 6, at least 4", count, most)
	}
	f.set(func(f *fakeFS) { f.gate = 0 })
	// Past the end: a short read without error, from the right offset.
	big := make([]byte, 6*ipc.MaxIO)
	n, _, err := c.ReadAt(bg, 7, big, ipc.MaxIO+5)
	if err != nil || n != size-ipc.MaxIO-5 || !bytes.Equal(big[:n], data[ipc.MaxIO+5:]) {
		t.Errorf("ReadAt across the end: %d, %v", n, err)
	}
	if n, _, err := c.ReadAt(bg, 7, big, int64(size)); n != 0 || err != nil {
		t.Errorf("ReadAt at the end: %d, %v", n, err)
	}
	all, err := c.ReadAll(bg, 7, 10) // a hint too small
	if err != nil || !bytes.Equal(all, data) {
		t.Errorf("ReadAll: %d bytes, %v", len(all), err)
	}
}

// TestReadIntoBuffer checks that a reply is decoded into the caller's
// buffer and never past its length.
func TestReadIntoBuffer(t *testing.T) {
	f, c := newFake(t)
	data := randBytes(1000, 2)
	if _, err := c.WriteAt(bg, 1, data, 0); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeFS) { f.extra = 100 }) // a server answering more than asked
	backing := make([]byte, 200)
	n, _, err := c.Read(bg, 1, backing[:100], 10)
	if n != 100 || err != nil || !bytes.Equal(backing[:100], data[10:110]) {
		t.Fatalf("Read: %d, %v", n, err)
	}
	if !bytes.Equal(backing[100:], make([]byte, 100)) {
		t.Error("a long reply spilled past the buffer")
	}
}

// TestWriteErrors checks that n is the prefix known written.
func TestWriteErrors(t *testing.T) {
	f, c := newFake(t)
	f.set(func(f *fakeFS) { f.failAt = 2*ipc.MaxIO + 10 })
	n, err := c.WriteAt(bg, 1, make([]byte, 4*ipc.MaxIO), 0)
	if !errors.Is(err, ipc.EIO) || n != 2*ipc.MaxIO {
		t.Errorf("WriteAt failing in chunk 2: %d, %v; want %d, EIO", n, err, 2*ipc.MaxIO)
	}
	n, _, err = c.Append(bg, 1, make([]byte, 3*ipc.MaxIO))
	if !errors.Is(err, ipc.EIO) || n != 0 {
		t.Errorf("Append past the failure: %d, %v", n, err)
	}
}

// TestAppend checks that appends land in order and report the size.
func TestAppend(t *testing.T) {
	f, c := newFake(t)
	f.set(func(f *fakeFS) { f.data = []byte("head") })
	data := randBytes(3*ipc.MaxIO+1, 3)
	n, size, err := c.Append(bg, 1, data)
	if n != len(data) || size != int64(4+len(data)) || err != nil {
		t.Fatalf("Append: %d, size %d, %v", n, size, err)
	}
	if _, most := f.stats(ipc.OpFSWrite); most != 1 {
		t.Errorf("appends with %d in flight", most)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !bytes.Equal(f.data[4:], data) {
		t.Error("appended bytes out of order")
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, io.ErrClosedPipe
	}
	w.after--
	return len(p), nil
}

// TestCopies checks WriteTo and ReadFrom, and which side each error is
// reported for.
func TestCopies(t *testing.T) {
	f, c := newFake(t)
	data := randBytes(3*ipc.MaxIO+77, 4)
	n, fsErr, ioErr := c.ReadFrom(bg, 1, 0, bytes.NewReader(data))
	if n != int64(len(data)) || fsErr != nil || ioErr != nil {
		t.Fatalf("ReadFrom: %d, %v, %v", n, fsErr, ioErr)
	}
	if count, _ := f.stats(ipc.OpFSWrite); count != 4 {
		t.Errorf("ReadFrom of 3 MiB + 77: %d messages", count)
	}
	var out bytes.Buffer
	n, fsErr, ioErr = c.WriteTo(bg, 1, 5, &out)
	if n != int64(len(data)-5) || fsErr != nil || ioErr != nil || !bytes.Equal(out.Bytes(), data[5:]) {
		t.Fatalf("WriteTo: %d, %v, %v", n, fsErr, ioErr)
	}
	n, fsErr, ioErr = c.WriteTo(bg, 1, 0, &failWriter{after: 1})
	if n != ipc.MaxIO || fsErr != nil || ioErr != io.ErrClosedPipe {
		t.Errorf("WriteTo a failing writer: %d, %v, %v", n, fsErr, ioErr)
	}
	f.set(func(f *fakeFS) { f.failAt = ipc.MaxIO })
	n, fsErr, ioErr = c.ReadFrom(bg, 1, 0, bytes.NewReader(data))
	if n != ipc.MaxIO || !errors.Is(fsErr, ipc.EIO) || ioErr != nil {
		t.Errorf("ReadFrom failing in chunk 1: %d, %v, %v", n, fsErr, ioErr)
	}
	n, fsErr, ioErr = c.ReadFrom(bg, 1, 0, io.MultiReader(bytes.NewReader(data[:10]), &errReader{}))
	if n != 10 || fsErr != nil || ioErr != io.ErrNoProgress {
		t.Errorf("ReadFrom a failing reader: %d, %v, %v", n, fsErr, ioErr)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrNoProgress }

// TestReadAhead checks that small sequential reads are batched, and that
// read-ahead never returns data older than a write through the client.
func TestReadAhead(t *testing.T) {
	f, c := newFake(t)
	const size = 4 << 20
	data := randBytes(size, 5)
	if _, err := c.WriteAt(bg, 1, data, 0); err != nil {
		t.Fatal(err)
	}
	f.reset()
	ra := c.NewReadAhead(1, size)
	defer ra.Close()
	var all []byte
	buf := make([]byte, 32<<10)
	reads := 0
	for off := int64(0); ; {
		n, eof, err := ra.Read(bg, buf, off)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, buf[:n]...)
		off += int64(n)
		reads++
		if eof {
			break
		}
	}
	if !bytes.Equal(all, data) {
		t.Fatal("sequential reads returned other bytes")
	}
	if count, _ := f.stats(ipc.OpFSRead); count > reads/3 {
		t.Errorf("%d reads of 32 KiB took %d messages: no read-ahead", reads, count)
	}

	// Own writes: through the client, through a copy with other
	// credentials, and through Mutating.
	writes := []func(p []byte, off int64) error{
		func(p []byte, off int64) error { _, err := c.WriteAt(bg, 1, p, off); return err },
		func(p []byte, off int64) error {
			_, err := c.WithCred(&ipc.Cred{UID: 5}).WriteAt(bg, 1, p, off)
			return err
		},
		func(p []byte, off int64) error {
			return c.Mutating(func() error { f.set(func(f *fakeFS) { copy(f.data[off:], p) }); return nil })
		},
	}
	for i, write := range writes {
		ra.Reset()
		f.reset()
		if _, _, err := ra.Read(bg, buf, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ra.Read(bg, buf, int64(len(buf))); err != nil { // sequential: reads ahead
			t.Fatal(err)
		}
		// Let the read-ahead land (a message past the two reads, none in
		// flight), then overwrite what it fetched.
		testutil.Poll(t, func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			if n, busy := f.count[ipc.OpFSRead], f.inflight[ipc.OpFSRead]; n < 3 || busy > 0 {
				return fmt.Errorf("%d reads, %d in flight: the read-ahead has not landed", n, busy)
			}
			return nil
		})
		p := bytes.Repeat([]byte{byte('a' + i)}, len(buf))
		if err := write(p, 2*int64(len(buf))); err != nil {
			t.Fatal(err)
		}
		if n, _, err := ra.Read(bg, buf, 2*int64(len(buf))); n != len(buf) || err != nil || !bytes.Equal(buf, p) {
			t.Errorf("write %d: the read after it returned older data (%d, %v)", i, n, err)
		}
	}
}
