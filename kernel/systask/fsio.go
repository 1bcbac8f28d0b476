package systask

import (
	"context"
	"errors"
	"io"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/ipc/fsclient"
)

// vfile is an instance file the kernel reads or writes for a process
// (stdio redirected to a file), with the process's credentials.
type vfile struct {
	fs     *fsclient.Client
	ino    uint64
	off    int64
	append bool // every write goes to the end, wherever others wrote
}

func openVFile(ctx context.Context, c *ipc.Conn, inst, path string, flags int, mode uint32) (*vfile, error) {
	fsc := fsclient.New(c, inst)
	rep, err := fsc.Open(ctx, &ipc.FSOpenReq{Path: path, Flags: flags, Mode: mode})
	if err != nil {
		return nil, &fileError{path: path, err: err}
	}
	return &vfile{fs: fsc, ino: rep.Attr.Ino, append: flags&ipc.O_APPEND != 0}, nil
}

type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// Read implements io.Reader.
func (f *vfile) Read(p []byte) (int, error) {
	n, _, err := f.fs.ReadAt(context.Background(), f.ino, p, f.off)
	f.off += int64(n)
	if err == nil && n == 0 && len(p) > 0 {
		err = io.EOF
	}
	return n, err
}

// WriteTo implements io.WriterTo: io.Copy from the file (a process's
// stdin) keeps several MaxIO reads in flight rather than one small read at
// a time.
func (f *vfile) WriteTo(w io.Writer) (int64, error) {
	n, fsErr, wErr := f.fs.WriteTo(context.Background(), f.ino, f.off, w)
	f.off += n
	if fsErr != nil {
		return n, fsErr
	}
	return n, wErr
}

// Write implements io.Writer. It writes p whole as soon as it comes: a
// process's output reaches the file as the process writes it.
func (f *vfile) Write(p []byte) (int, error) {
	if f.append {
		n, size, err := f.fs.Append(context.Background(), f.ino, p)
		if err == nil {
			f.off = size
		}
		return n, err
	}
	n, err := f.fs.WriteAt(context.Background(), f.ino, p, f.off)
	f.off += int64(n)
	return n, err
}

// Close ends the open.
func (f *vfile) Close() error {
	err := f.fs.Close(context.Background(), f.ino)
	if errors.Is(err, ipc.ENOENT) {
		return nil
	}
	return err
}
