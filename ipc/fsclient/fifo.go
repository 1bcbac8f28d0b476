package fsclient

import (
	"context"
	"errors"
	"time"

	"github.com/vos-os/vos/ipc"
)

// fifoCall bounds one call that FS may hold (a FIFO's open, read or
// write): FS answers EAGAIN after some seconds, well within it.
const fifoCall = 30 * time.Second

// held sends a call FS may hold, asking again while it says EAGAIN unless
// nonblock.
func (c *Client) held(ctx context.Context, nonblock bool, op ipc.Op, req, rep any) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, fifoCall)
		err := c.Call(cctx, op, req, rep)
		cancel()
		if nonblock || !errors.Is(err, ipc.EAGAIN) || ctx.Err() != nil {
			return err
		}
	}
}

// OpenWait is Open for a name that may be a FIFO, whose open waits for
// the other side (unless O_NONBLOCK): it asks again while FS says EAGAIN.
func (c *Client) OpenWait(ctx context.Context, req *ipc.FSOpenReq) (*ipc.FSOpenRep, error) {
	var rep ipc.FSOpenRep
	err := c.held(ctx, req.Flags&ipc.O_NONBLOCK != 0, ipc.OpFSOpen, req, &rep)
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// FifoRead reads up to len(p) bytes from an open FIFO, waiting for bytes
// unless nonblock (then ipc.EAGAIN); eof says the pipe is empty with no
// writer.
func (c *Client) FifoRead(ctx context.Context, h ipc.FSFifo, p []byte, nonblock bool) (n int, eof bool, err error) {
	var rep ipc.FSFifoReadRep
	req := &ipc.FSFifoReadReq{FSFifo: h, Len: min(len(p), ipc.MaxIO), NonBlock: nonblock}
	if err := c.held(ctx, nonblock, ipc.OpFSFifoRead, req, &rep); err != nil {
		return 0, false, err
	}
	return copy(p, rep.Data), rep.EOF, nil
}

// FifoWrite writes p into an open FIFO: all of it, waiting for room,
// unless nonblock (then what fit, and ipc.EAGAIN if not all did). Writes
// of at most ipc.PipeBuf bytes are atomic. With no reader it says
// ipc.EPIPE.
func (c *Client) FifoWrite(ctx context.Context, h ipc.FSFifo, p []byte, nonblock bool) (int, error) {
	n := 0
	for n < len(p) {
		var rep ipc.FSFifoWriteRep
		req := &ipc.FSFifoWriteReq{FSFifo: h, Data: p[n:min(len(p), n+ipc.MaxIO)], NonBlock: nonblock}
		if err := c.held(ctx, nonblock, ipc.OpFSFifoWrite, req, &rep); err != nil {
			return n, err
		}
		n += rep.N
	}
	return n, nil
}

// CloseFifo ends an open of a FIFO: its handle and the inode's open.
func (c *Client) CloseFifo(ctx context.Context, ino, handle uint64) error {
	return c.Call(ctx, ipc.OpFSClose, &ipc.FSCloseReq{Ino: ino, Handle: handle}, nil)
}
