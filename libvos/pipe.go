package libvos

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vos-os/vos/ipc"
)

// Pipe is VOS's pipe: a stream of the instance that carries bytes one
// way, from any number of writers to one reader, whichever nodes they run
// on. Writers are acknowledged as the reader consumes, so a slow reader
// slows its writers and nothing is lost.
//
// A pipe exists while its read end is served: by a process given the
// pipe as stdin (its node serves it), or by this process (Reader,
// ReadTo). A writer that joins before there is a reader waits for one;
// the reader sees end of file once every writer that joined has left, so
// that, as with a pipe a shell shares with its children, one writer
// ending does not end the stream for the others. Start the reader first,
// then the writers.
type Pipe struct {
	o    *OS
	name string
}

var pipeSeq atomic.Uint64

// pipeWait is how long a writer waits for a pipe's reader to appear: it
// may be a process still starting on another node.
const pipeWait = 10 * time.Second

// Pipe returns a new pipe, named among the calling process's subjects.
// Neither end is open yet.
func (o *OS) Pipe() *Pipe {
	return &Pipe{o: o, name: ipc.PipeSubject(o.inst, o.Getpid(), pipeSeq.Add(1))}
}

// Name is the pipe's subject.
func (p *Pipe) Name() string { return p.name }

// Stdio connects a new process's stdin (it becomes the reader) or its
// stdout or stderr (a writer) to the pipe.
func (p *Pipe) Stdio() Stdio { return Stream(p.name) }

// PipeReader is a pipe's read end served by this process. One made by
// Reader is an io.ReadCloser; one made by ReadTo copies into its writer.
type PipeReader struct {
	r      *ipc.StreamReader
	pr     *io.PipeReader // Reader's; nil for ReadTo's
	closed chan struct{}
	once   sync.Once
}

// ReadTo serves the read end, writing what arrives into w, one write at a
// time and in order; a write is acknowledged to its writer once w has
// taken it. When a write to w fails, every writer gets EPIPE from then on,
// as from a pipe whose reader has gone.
func (p *Pipe) ReadTo(w io.Writer) (*PipeReader, error) {
	r, err := ipc.ServeStream(p.o.c.NATS(), p.name, w)
	if err != nil {
		return nil, err
	}
	return &PipeReader{r: r, closed: make(chan struct{})}, nil
}

// Reader serves the read end to be read as a file: Read returns what
// writers wrote, then io.EOF once every writer that joined has left.
func (p *Pipe) Reader() (*PipeReader, error) {
	pr, pw := io.Pipe() // synchronous: a writer's chunk is acknowledged once Read took it
	r, err := p.ReadTo(pw)
	if err != nil {
		return nil, err
	}
	r.pr = pr
	go func() {
		select {
		case <-r.r.Done(): // after every chunk was consumed: chunks are handled in order
			pw.Close()
		case <-r.closed:
		}
	}()
	return r, nil
}

// Read reads what the pipe's writers wrote. A reader made by ReadTo has
// nothing to Read (its data goes to its writer): EBADF.
func (r *PipeReader) Read(b []byte) (int, error) {
	if r.pr == nil {
		return 0, ipc.EBADF
	}
	return r.pr.Read(b)
}

// Done is closed at end of file: every writer that joined has left.
func (r *PipeReader) Done() <-chan struct{} { return r.r.Done() }

// Close stops reading: writers get EPIPE from then on.
func (r *PipeReader) Close() error {
	r.once.Do(func() {
		close(r.closed)
		if r.pr != nil {
			r.pr.Close() // first: a chunk blocked in Read's pipe must not hold up the stop
		}
		r.r.Close()
	})
	return nil
}

// PipeWriter is a write end of a pipe: an io.WriteCloser.
type PipeWriter struct{ w *ipc.StreamWriter }

// Writer joins the pipe as a writer, waiting for its reader to appear
// (for up to 10 s, or until ctx ends). No reader by then is EPIPE. A
// writer that never writes still holds the pipe open: its reader sees no
// end of file until it is closed.
func (p *Pipe) Writer(ctx context.Context) (*PipeWriter, error) {
	w, err := ipc.OpenStream(ctx, p.o.c, p.name, pipeWait)
	if err != nil {
		return nil, err
	}
	return &PipeWriter{w: w}, nil
}

// Write writes b, returning once the reader has taken it. A reader that
// has gone is EPIPE.
func (w *PipeWriter) Write(b []byte) (int, error) { return w.w.Write(b) }

// Close leaves the pipe; its reader sees end of file when every writer
// has left.
func (w *PipeWriter) Close() error { return w.w.Close() }

var (
	_ io.ReadCloser  = (*PipeReader)(nil)
	_ io.WriteCloser = (*PipeWriter)(nil)
)
