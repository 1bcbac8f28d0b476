package libvos

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/vos-os/vos/ipc"
)

// Read-ahead: once a File is read sequentially, it keeps raWindow chunks
// of raChunk..MaxIO bytes in flight ahead of the reader.
const (
	raWindow = 4
	raChunk  = 128 << 10
)

var (
	errWriteAtInAppendMode = errors.New("os: invalid use of WriteAt on file opened with O_APPEND")
	errNegativeOffset      = errors.New("negative offset")
)

// File is an open file of an instance, as *os.File: Read and Write move a
// file offset, ReadAt and WriteAt do not. The FS server counts the open
// until Close, so the file stays readable after it is unlinked. A File is
// safe for concurrent use.
type File struct {
	o    *OS
	name string
	ino  uint64
	flag int
	dir  bool

	closed  atomic.Bool
	io      sync.RWMutex   // every operation holds it for reading; Close for writing
	pending sync.WaitGroup // read-ahead messages in flight

	mu      sync.Mutex // guards what follows; held across Read, Write, Seek, ReadDir
	off     int64
	lastEnd int64       // where the last Read ended: a Read from there is sequential
	size    int64       // the size the last reply reported
	ra      []*prefetch // read-ahead chunks, contiguous, in file order
	dirBuf  []ipc.Dirent
	dirNext string // the name after which the next readdir page starts
	dirDone bool
}

func newFile(o *OS, name string, flag int, a *ipc.Attr) *File {
	return &File{o: o, name: name, ino: a.Ino, flag: flag, dir: a.IsDir(), lastEnd: -1, size: a.Size}
}

// Name returns the name the file was opened with.
func (f *File) Name() string { return f.name }

// begin starts an operation: it fails once the file is closed, else
// the caller must call f.io.RUnlock when done.
func (f *File) begin(op string) error {
	if f == nil {
		return os.ErrInvalid
	}
	f.io.RLock()
	if f.closed.Load() {
		f.io.RUnlock()
		return pathErr(op, f.name, fs.ErrClosed)
	}
	return nil
}

func (f *File) readable(op string) error {
	if f.flag&ipc.O_ACCMODE == ipc.O_WRONLY {
		return pathErr(op, f.name, ipc.EBADF)
	}
	if f.dir {
		return pathErr(op, f.name, ipc.EISDIR)
	}
	return nil
}

func (f *File) writable(op string) error {
	if f.flag&ipc.O_ACCMODE == ipc.O_RDONLY {
		return pathErr(op, f.name, ipc.EBADF)
	}
	return nil
}

// Read reads up to len(p) bytes at the file offset. At end of file it
// returns 0, io.EOF.
func (f *File) Read(p []byte) (int, error) {
	if err := f.begin("read"); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	if err := f.readable("read"); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, eof, err := f.readLocked(p)
	if err != nil {
		return n, pathErr("read", f.name, err)
	}
	if n == 0 && eof {
		return 0, io.EOF
	}
	return n, nil
}

// readLocked serves p from read-ahead where it can and reads the rest.
// Precondition: f.mu is held.
func (f *File) readLocked(p []byte) (n int, eof bool, err error) {
	off := f.off
	sequential := off == f.lastEnd
	if !sequential {
		f.dropReadAhead()
	}
	for n < len(p) && len(f.ra) > 0 {
		pf := f.ra[0]
		<-pf.done
		at := off + int64(n) - pf.off
		if pf.err != nil || !pf.fresh(f.o) || at < 0 || at > int64(len(pf.data)) {
			f.dropReadAhead()
			break
		}
		c := copy(p[n:], pf.data[at:])
		n += c
		f.size = pf.size
		if int(at)+c == len(pf.data) {
			f.ra = f.ra[1:]
			pf.release()
			if len(pf.data) < pf.want {
				eof = true
				f.dropReadAhead()
			}
		}
	}
	if n < len(p) && !eof {
		m, size, rerr := f.o.readAt(f.ino, p[n:], off+int64(n))
		n += m
		f.size = size
		if rerr != nil {
			f.off += int64(n)
			f.lastEnd = -1
			f.dropReadAhead()
			return n, false, rerr
		}
		eof = n < len(p)
	}
	f.off += int64(n)
	f.lastEnd = f.off
	if sequential && !eof {
		f.readAhead(len(p))
	}
	return n, eof, nil
}

// prefetch is one read-ahead message.
type prefetch struct {
	off  int64
	want int
	buf  *[]byte
	data []byte // what was read, once done is closed
	size int64
	err  error
	done chan struct{}
	// gen is o.wstart when it was sent, or 0 if a write was in flight
	// then: data is stale if any write through the OS started since.
	gen uint64
}

func (pf *prefetch) fresh(o *OS) bool { return pf.gen != 0 && o.wstart.Load()+1 == pf.gen }

func (pf *prefetch) release() {
	if pf.buf != nil {
		putChunk(pf.buf)
		pf.buf = nil
	}
}

// readAhead tops the read-ahead window up. Precondition: f.mu is held.
func (f *File) readAhead(readLen int) {
	chunk := min(max(2*readLen, raChunk), ipc.MaxIO)
	next := f.off
	if k := len(f.ra); k > 0 {
		next = f.ra[k-1].off + int64(f.ra[k-1].want)
	}
	for len(f.ra) < raWindow && next < f.size {
		// wend before wstart: equal means no write was in flight.
		e := f.o.wend.Load()
		s := f.o.wstart.Load()
		pf := &prefetch{off: next, want: chunk, buf: getChunk(), done: make(chan struct{})}
		if s == e {
			pf.gen = s + 1 // +1 keeps 0 free to mean "stale"
		}
		f.pending.Add(1)
		go func() {
			defer f.pending.Done()
			defer close(pf.done)
			n, size, err := f.o.readChunk(f.ino, (*pf.buf)[:pf.want], pf.off)
			pf.data, pf.size, pf.err = (*pf.buf)[:n], size, err
		}()
		f.ra = append(f.ra, pf)
		next += int64(chunk)
	}
}

// dropReadAhead forgets the read-ahead chunks; those in flight finish on
// their own. Precondition: f.mu is held.
func (f *File) dropReadAhead() {
	for _, pf := range f.ra {
		select {
		case <-pf.done:
			pf.release()
		default: // still being written into: leave the buffer to the GC
		}
	}
	f.ra = nil
}

// ReadAt reads len(p) bytes at off, as os.File.ReadAt: fewer only at end
// of file (io.EOF) or on error.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if err := f.begin("read"); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	if err := f.readable("read"); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("readat", f.name, errNegativeOffset)
	}
	n, _, err := f.o.readAt(f.ino, p, off)
	if err != nil {
		return n, pathErr("read", f.name, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Write writes p at the file offset (at the end with O_APPEND). It
// returns fewer than len(p) bytes only with an error.
func (f *File) Write(p []byte) (int, error) {
	if err := f.begin("write"); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	if err := f.writable("write"); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropReadAhead()
	var n int
	var err error
	if f.flag&os.O_APPEND != 0 {
		var size int64
		n, size, err = f.o.appendAll(f.ino, p)
		if err == nil {
			f.off = size
		}
	} else {
		n, err = f.o.writeAt(f.ino, p, f.off)
		f.off += int64(n)
	}
	if err != nil {
		return n, pathErr("write", f.name, err)
	}
	return n, nil
}

// WriteString is Write of a string.
func (f *File) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

// WriteAt writes p at off without moving the file offset. Like os, it
// refuses a file opened with O_APPEND.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if err := f.begin("write"); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	if err := f.writable("write"); err != nil {
		return 0, err
	}
	if f.flag&os.O_APPEND != 0 {
		return 0, errWriteAtInAppendMode
	}
	if off < 0 {
		return 0, pathErr("writeat", f.name, errNegativeOffset)
	}
	n, err := f.o.writeAt(f.ino, p, off)
	if err != nil {
		return n, pathErr("write", f.name, err)
	}
	return n, nil
}

// Seek sets the offset for the next Read or Write; io.SeekEnd is relative
// to the size the server has now. Seek(0, io.SeekStart) on a directory
// restarts ReadDir.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if err := f.begin("seek"); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = f.off
	case io.SeekEnd:
		a, err := f.getattr()
		if err != nil {
			return 0, pathErr("seek", f.name, err)
		}
		base = a.Size
	default:
		return 0, pathErr("seek", f.name, ipc.EINVAL)
	}
	pos := base + offset
	if pos < 0 || (offset > 0 && pos < base) {
		return 0, pathErr("seek", f.name, ipc.EINVAL)
	}
	f.off = pos
	if f.dir && pos == 0 {
		f.dirBuf, f.dirNext, f.dirDone = nil, "", false
	}
	return pos, nil
}

func (f *File) getattr() (*ipc.Attr, error) {
	var rep ipc.FSAttrRep
	if err := f.o.call(ipc.OpFSGetattr, &ipc.FSGetattrReq{Ino: f.ino}, &rep); err != nil {
		return nil, err
	}
	return &rep.Attr, nil
}

// Stat returns the open file's FileInfo (its inode's, even if unlinked).
func (f *File) Stat() (fs.FileInfo, error) {
	if err := f.begin("stat"); err != nil {
		return nil, err
	}
	defer f.io.RUnlock()
	a, err := f.getattr()
	if err != nil {
		return nil, pathErr("stat", f.name, err)
	}
	return newFileInfo(basename(f.name), a), nil
}

func (f *File) setattr(op string, req *ipc.FSSetattrReq) error {
	if err := f.begin(op); err != nil {
		return err
	}
	defer f.io.RUnlock()
	req.Ino = f.ino
	call := func() error { return f.o.call(ipc.OpFSSetattr, req, nil) }
	var err error
	if req.Valid&ipc.SetSize != 0 {
		err = f.o.mutating(call)
	} else {
		err = call()
	}
	if err != nil {
		return pathErr(op, f.name, err)
	}
	return nil
}

// Truncate changes the file's size.
func (f *File) Truncate(size int64) error {
	if f != nil && f.closed.Load() {
		return pathErr("truncate", f.name, fs.ErrClosed)
	}
	if err := f.writable("truncate"); err != nil {
		return pathErr("truncate", f.name, ipc.EINVAL) // ftruncate(2) of a read-only fd
	}
	if size < 0 {
		return pathErr("truncate", f.name, ipc.EINVAL)
	}
	return f.setattr("truncate", &ipc.FSSetattrReq{Valid: ipc.SetSize, Size: size})
}

// Chmod changes the file's mode.
func (f *File) Chmod(mode fs.FileMode) error {
	return f.setattr("chmod", &ipc.FSSetattrReq{Valid: ipc.SetMode, Mode: permBits(mode)})
}

// Chown changes the file's owner and group; -1 leaves one unchanged.
func (f *File) Chown(uid, gid int) error { return f.setattr("chown", chownReq(uid, gid, false)) }

// Sync asks the server to make the file durable. (Every change is
// journaled before its reply already; this is for programs that call it.)
func (f *File) Sync() error {
	if err := f.begin("sync"); err != nil {
		return err
	}
	defer f.io.RUnlock()
	if err := f.o.call(ipc.OpFSFsync, &ipc.FSFsyncReq{Ino: f.ino}, nil); err != nil {
		return pathErr("sync", f.name, err)
	}
	return nil
}

// Close ends the open: fs.close is sent exactly once, after the file's
// operations in progress end. Later use fails with fs.ErrClosed.
func (f *File) Close() error {
	if f == nil {
		return os.ErrInvalid
	}
	if !f.closed.CompareAndSwap(false, true) {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.io.Lock() // waits for operations in progress
	f.mu.Lock()
	f.dropReadAhead()
	f.mu.Unlock()
	f.io.Unlock()
	f.pending.Wait()
	if err := f.o.call(ipc.OpFSClose, &ipc.FSCloseReq{Ino: f.ino}, nil); err != nil {
		return pathErr("close", f.name, err)
	}
	return nil
}

// ReadDir reads the directory's next n entries in name order, as
// os.File.ReadDir: with n > 0 at most n, and io.EOF at the end; with
// n <= 0 all the rest.
func (f *File) ReadDir(n int) ([]fs.DirEntry, error) {
	if err := f.begin("readdirent"); err != nil {
		return nil, err
	}
	defer f.io.RUnlock()
	if !f.dir {
		return nil, pathErr("readdirent", f.name, ipc.ENOTDIR)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fs.DirEntry
	for n <= 0 || len(out) < n {
		if len(f.dirBuf) == 0 {
			if f.dirDone {
				break
			}
			var rep ipc.FSReaddirRep
			if err := f.o.call(ipc.OpFSReaddir, &ipc.FSReaddirReq{At: f.ino, After: f.dirNext}, &rep); err != nil {
				return out, pathErr("readdirent", f.name, err)
			}
			f.dirBuf = rep.Entries
			f.dirDone = rep.Done || len(rep.Entries) == 0
			if k := len(rep.Entries); k > 0 {
				f.dirNext = rep.Entries[k-1].Name
			}
			continue
		}
		out = append(out, newDirEntry(f.o, f.ino, "", f.name, f.dirBuf[0]))
		f.dirBuf = f.dirBuf[1:]
	}
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

// Readdirnames is ReadDir returning names only.
func (f *File) Readdirnames(n int) ([]string, error) {
	ents, err := f.ReadDir(n)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, err
}

// readAll reads the whole file from the start, in one pipelined read when
// the file's size at open is still right.
func (f *File) readAll() ([]byte, error) {
	if err := f.begin("read"); err != nil {
		return nil, err
	}
	defer f.io.RUnlock()
	if err := f.readable("read"); err != nil {
		return nil, err
	}
	// +512 notices a file that grew since open without another round trip.
	buf := make([]byte, f.size+512)
	n := 0
	for {
		m, _, err := f.o.readAt(f.ino, buf[n:], int64(n))
		n += m
		if err != nil {
			return buf[:n], pathErr("read", f.name, err)
		}
		if n < len(buf) {
			return buf[:n], nil
		}
		buf = append(buf, make([]byte, len(buf))...)
	}
}

// WriteTo copies the file from its offset to w, keeping several MaxIO
// reads in flight; io.Copy uses it.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	if err := f.begin("read"); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	if err := f.readable("read"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropReadAhead()
	f.lastEnd = -1
	type chunk struct {
		buf  *[]byte
		n    int
		size int64
		err  error
		done chan struct{}
	}
	var q []*chunk
	defer func() {
		for _, c := range q {
			<-c.done
			putChunk(c.buf)
		}
	}()
	next := f.off
	issue := func() {
		c := &chunk{buf: getChunk(), done: make(chan struct{})}
		off := next
		go func() {
			defer close(c.done)
			c.n, c.size, c.err = f.o.readChunk(f.ino, *c.buf, off)
		}()
		q = append(q, c)
		next += ipc.MaxIO
	}
	issue()
	var total int64
	for len(q) > 0 {
		c := q[0]
		<-c.done
		q = q[1:]
		if c.err != nil {
			putChunk(c.buf)
			return total, pathErr("read", f.name, c.err)
		}
		m, werr := w.Write((*c.buf)[:c.n])
		putChunk(c.buf)
		total += int64(m)
		f.off += int64(m)
		if werr != nil {
			return total, werr
		}
		if c.n < ipc.MaxIO {
			break // end of file
		}
		// Keep the window full, up to the size the server reported.
		for len(q) < inflight && next < c.size {
			issue()
		}
		if len(q) == 0 {
			break // read up to the size: end of file
		}
	}
	return total, nil
}

// ReadFrom copies r to the file at its offset in MaxIO messages, several
// in flight; io.Copy uses it.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f.flag&os.O_APPEND != 0 {
		// Appends must land in order: one at a time through Write.
		return io.Copy(writerOnly{f}, r)
	}
	if err := f.begin("write"); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	if err := f.writable("write"); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropReadAhead()
	f.o.wstart.Add(1)
	defer f.o.wend.Add(1)
	type chunk struct {
		want, n int
		err     error
	}
	var (
		cs     []*chunk
		wg     sync.WaitGroup
		failed atomic.Bool
		sem    = make(chan struct{}, inflight)
		rerr   error
	)
	off := f.off
	for !failed.Load() {
		buf := getChunk()
		m, err := io.ReadFull(r, *buf)
		if m > 0 {
			c := &chunk{want: m}
			cs = append(cs, c)
			sem <- struct{}{}
			wg.Add(1)
			go func(off int64) {
				defer wg.Done()
				c.n, _, c.err = f.o.writeChunk(f.ino, (*buf)[:m], off, false)
				if c.err != nil {
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
			rerr = err
			break
		}
	}
	wg.Wait()
	var total int64
	for _, c := range cs {
		total += int64(c.n)
		if c.err != nil {
			f.off += total
			return total, pathErr("write", f.name, c.err)
		}
	}
	f.off += total
	return total, rerr
}

// writerOnly hides ReadFrom so io.Copy does not call it again.
type writerOnly struct{ io.Writer }

// Interfaces a File satisfies, as *os.File does.
var (
	_ io.ReadWriteSeeker = (*File)(nil)
	_ io.ReaderAt        = (*File)(nil)
	_ io.WriterAt        = (*File)(nil)
	_ io.ReaderFrom      = (*File)(nil)
	_ io.WriterTo        = (*File)(nil)
	_ io.StringWriter    = (*File)(nil)
	_ fs.ReadDirFile     = (*File)(nil)
)
