package libvos

import (
	"context"
	"github.com/vos-os/vos/ipc"
	"io"
)

// A FIFO opened through libvos reads and writes the pipe its FS server
// keeps for it (fs.fiforead, fs.fifowrite): a reader and a writer on
// different nodes meet there. No read-ahead: a pipe's bytes are read once.
// A write with no reader says EPIPE (no signal is sent). O_NONBLOCK opens
// make reads and writes that would wait say EAGAIN.

func (f *File) nonblock() bool { return f.flag&ipc.O_NONBLOCK != 0 }

// fifoRead reads what the pipe has, up to len(p); io.EOF once it is empty
// with no writer.
func (f *File) fifoRead(p []byte) (int, error) {
	n, eof, err := f.o.fsc.FifoRead(context.Background(), *f.fifo, p, f.nonblock())
	switch {
	case err != nil:
		return n, pathErr("read", f.name, err)
	case n == 0 && eof:
		return 0, io.EOF
	}
	return n, nil
}

// fifoWrite writes all of p (writes of at most PIPE_BUF bytes are atomic).
func (f *File) fifoWrite(p []byte) (int, error) {
	n, err := f.o.fsc.FifoWrite(context.Background(), *f.fifo, p, f.nonblock())
	if err != nil {
		return n, pathErr("write", f.name, err)
	}
	return n, nil
}
