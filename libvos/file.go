package libvos

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"sync/atomic"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/ipc/fsclient"
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

	closed atomic.Bool
	io     sync.RWMutex // every operation holds it for reading; Close for writing

	mu      sync.Mutex // guards what follows; held across Read, Write, Seek, ReadDir
	off     int64
	rd      *fsclient.ReadAhead // Read's; it knows the size the last reply reported
	dirBuf  []ipc.Dirent
	dirNext string // the name after which the next readdir page starts
	dirDone bool

	host *os.File // a file under a host folder, read through the pod's mount (hostview.go)
}

func newFile(o *OS, name string, flag int, a *ipc.Attr) *File {
	return &File{o: o, name: name, ino: a.Ino, flag: flag, dir: a.IsDir(), rd: o.fsc.NewReadAhead(a.Ino, a.Size)}
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
	if f != nil && f.host != nil {
		return f.host.Read(p)
	}
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

// readLocked reads p at the file offset, served by read-ahead when
// reads are sequential. Precondition: f.mu is held.
func (f *File) readLocked(p []byte) (n int, eof bool, err error) {
	n, eof, err = f.rd.Read(context.Background(), p, f.off)
	f.off += int64(n)
	return n, eof, err
}

// ReadAt reads len(p) bytes at off, as os.File.ReadAt: fewer only at end
// of file (io.EOF) or on error.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f != nil && f.host != nil {
		return f.host.ReadAt(p, off)
	}
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
	n, _, err := f.o.fsc.ReadAt(context.Background(), f.ino, p, off)
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
	if f != nil && f.host != nil {
		return 0, pathErr("write", f.name, ipc.EBADF)
	}
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
	f.rd.Reset()
	var n int
	var err error
	if f.flag&os.O_APPEND != 0 {
		var size int64
		n, size, err = f.o.fsc.Append(context.Background(), f.ino, p)
		if err == nil {
			f.off = size
		}
	} else {
		n, err = f.o.fsc.WriteAt(context.Background(), f.ino, p, f.off)
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
	if f != nil && f.host != nil {
		return 0, pathErr("write", f.name, ipc.EBADF)
	}
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
	n, err := f.o.fsc.WriteAt(context.Background(), f.ino, p, off)
	if err != nil {
		return n, pathErr("write", f.name, err)
	}
	return n, nil
}

// Seek sets the offset for the next Read or Write; io.SeekEnd is relative
// to the size the server has now. Seek(0, io.SeekStart) on a directory
// restarts ReadDir.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if f != nil && f.host != nil {
		return f.host.Seek(offset, whence)
	}
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

func (f *File) getattr() (*ipc.Attr, error) { return f.o.fsc.Getattr(context.Background(), f.ino) }

// Stat returns the open file's FileInfo (its inode's, even if unlinked).
func (f *File) Stat() (fs.FileInfo, error) {
	if f != nil && f.host != nil {
		fi, err := f.host.Stat()
		if err != nil {
			return nil, hostErr("stat", f.name, err)
		}
		return hostInfo(path.Base(f.name), fi), nil
	}
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
	if f != nil && f.host != nil {
		return pathErr(op, f.name, ipc.EROFS)
	}
	if err := f.begin(op); err != nil {
		return err
	}
	defer f.io.RUnlock()
	req.Ino = f.ino
	if _, err := f.o.fsc.Setattr(context.Background(), req); err != nil {
		return pathErr(op, f.name, err)
	}
	return nil
}

// Truncate changes the file's size.
func (f *File) Truncate(size int64) error {
	if f != nil && f.host != nil {
		return pathErr("truncate", f.name, ipc.EROFS)
	}
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

// Fallocate is fallocate(2) on the file, which must be open for writing
// (EBADF): mode 0 allocates length bytes at off (stored zeros where the
// file has none) and extends the size to their end; unix.FALLOC_FL_KEEP_SIZE
// allocates without changing the size; FALLOC_FL_PUNCH_HOLE|KEEP_SIZE
// zeroes the range and frees the blocks it covers. Other modes say
// EOPNOTSUPP.
func (f *File) Fallocate(mode uint32, off, length int64) error {
	if err := f.begin("fallocate"); err != nil {
		return err
	}
	defer f.io.RUnlock()
	if err := f.writable("fallocate"); err != nil {
		return err
	}
	if _, err := f.o.fsc.Fallocate(context.Background(), f.ino, mode, off, length); err != nil {
		return pathErr("fallocate", f.name, err)
	}
	return nil
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
	if f != nil && f.host != nil {
		return nil
	}
	if err := f.begin("sync"); err != nil {
		return err
	}
	defer f.io.RUnlock()
	if err := f.o.fsc.Fsync(context.Background(), f.ino); err != nil {
		return pathErr("sync", f.name, err)
	}
	return nil
}

// Close ends the open: fs.close is sent exactly once, after the file's
// operations in progress end. Later use fails with fs.ErrClosed.
func (f *File) Close() error {
	if f != nil && f.host != nil {
		if !f.closed.CompareAndSwap(false, true) {
			return pathErr("close", f.name, fs.ErrClosed)
		}
		return f.host.Close()
	}
	if f == nil {
		return os.ErrInvalid
	}
	if !f.closed.CompareAndSwap(false, true) {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.io.Lock() // waits for operations in progress; none starts after
	f.io.Unlock()
	f.rd.Close() // read-ahead still in flight must not outlive the open
	if err := f.o.fsc.Close(context.Background(), f.ino); err != nil {
		return pathErr("close", f.name, err)
	}
	return nil
}

// ReadDir reads the directory's next n entries in name order, as
// os.File.ReadDir: with n > 0 at most n, and io.EOF at the end; with
// n <= 0 all the rest.
func (f *File) ReadDir(n int) ([]fs.DirEntry, error) {
	if f != nil && f.host != nil {
		ents, err := f.host.ReadDir(n)
		return hostEntries(ents), err
	}
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
			rep, err := f.o.fsc.Readdir(context.Background(), f.ino, "", f.dirNext)
			if err != nil {
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
// the size last seen is still right.
func (f *File) readAll() ([]byte, error) {
	if f.host != nil {
		return io.ReadAll(f.host)
	}
	if err := f.begin("read"); err != nil {
		return nil, err
	}
	defer f.io.RUnlock()
	if err := f.readable("read"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	size := f.rd.Size()
	f.mu.Unlock()
	data, err := f.o.fsc.ReadAll(context.Background(), f.ino, size)
	if err != nil {
		return data, pathErr("read", f.name, err)
	}
	return data, nil
}

// WriteTo copies the file from its offset to w, keeping several MaxIO
// reads in flight; io.Copy uses it.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	if f != nil && f.host != nil {
		return io.Copy(w, f.host)
	}
	return f.copyAt("read", func(off int64) (int64, error, error) {
		return f.o.fsc.WriteTo(context.Background(), f.ino, off, w)
	})
}

// ReadFrom copies r to the file at its offset in MaxIO messages, several
// in flight; io.Copy uses it.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	if f != nil && f.host != nil {
		return 0, pathErr("write", f.name, ipc.EBADF)
	}
	if f.flag&os.O_APPEND != 0 {
		// Appends must land in order: one at a time through Write.
		return io.Copy(writerOnly{f}, r)
	}
	return f.copyAt("write", func(off int64) (int64, error, error) {
		return f.o.fsc.ReadFrom(context.Background(), f.ino, off, r)
	})
}

// copyAt runs a pipelined copy from the file offset, which moves by what
// was copied; op ("read" or "write") is the file's side of it. Errors of
// the file are *fs.PathErrors, those of the other side are passed on.
func (f *File) copyAt(op string, copy func(off int64) (n int64, fsErr, ioErr error)) (int64, error) {
	if err := f.begin(op); err != nil {
		return 0, err
	}
	defer f.io.RUnlock()
	check := f.readable
	if op == "write" {
		check = f.writable
	}
	if err := check(op); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rd.Reset()
	n, fsErr, ioErr := copy(f.off)
	f.off += n
	if fsErr != nil {
		return n, pathErr(op, f.name, fsErr)
	}
	return n, ioErr
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
