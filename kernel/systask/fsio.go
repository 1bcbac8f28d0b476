package systask

import (
	"context"
	"errors"
	"io"

	"github.com/vos-os/vos/ipc"
)

// vfile is an instance file the kernel reads or writes for a process
// (stdio redirected to a file), with the process's credentials.
type vfile struct {
	c      *ipc.Conn
	ep     ipc.Endpoint
	ino    uint64
	off    int64
	append bool // every write goes to the end, wherever others wrote
}

func openVFile(ctx context.Context, c *ipc.Conn, inst, path string, flags int, mode uint32) (*vfile, error) {
	ep := ipc.ServerEndpoint(inst, ipc.RoleFS)
	var rep ipc.FSOpenRep
	if err := c.Call(ctx, ep, ipc.OpFSOpen, &ipc.FSOpenReq{Path: path, Flags: flags, Mode: mode}, &rep); err != nil {
		return nil, &fileError{path: path, err: err}
	}
	return &vfile{c: c, ep: ep, ino: rep.Attr.Ino, append: flags&ipc.O_APPEND != 0}, nil
}

type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// Read implements io.Reader.
func (f *vfile) Read(p []byte) (int, error) {
	var rep ipc.FSReadRep
	if err := f.c.Call(context.Background(), f.ep, ipc.OpFSRead, &ipc.FSReadReq{Ino: f.ino, Off: f.off, Len: min(len(p), ipc.MaxIO)}, &rep); err != nil {
		return 0, err
	}
	if len(rep.Data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, rep.Data)
	f.off += int64(n)
	return n, nil
}

// Write implements io.Writer.
func (f *vfile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		end := min(n+ipc.MaxIO, len(p))
		var rep ipc.FSWriteRep
		if err := f.c.Call(context.Background(), f.ep, ipc.OpFSWrite, &ipc.FSWriteReq{Ino: f.ino, Off: f.off, Data: p[n:end], Append: f.append}, &rep); err != nil {
			return n, err
		}
		f.off += int64(rep.N)
		n = end
	}
	return n, nil
}

// Close ends the open.
func (f *vfile) Close() error {
	err := f.c.Call(context.Background(), f.ep, ipc.OpFSClose, &ipc.FSCloseReq{Ino: f.ino}, nil)
	if errors.Is(err, ipc.ENOENT) {
		return nil
	}
	return err
}
