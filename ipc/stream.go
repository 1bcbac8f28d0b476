package ipc

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// A stream carries bytes one way, as a Unix pipe does: a process's stdin,
// stdout or stderr, or a pipe between two processes, whichever nodes its
// ends are on. The reader serves a subject; each writer sends chunks to it
// as requests and the reader acknowledges a chunk once it has consumed it,
// so a slow reader slows its writers and nothing is lost. Writers announce
// themselves (open) and leave (close); the reader sees end of file when the
// last writer has left, so that, as with a pipe shared by a shell and its
// children, one writer finishing does not end the stream for the others.
const OpStream Op = BaseCommon + 0x10

func init() {
	mustRegister(Def{OpStream, "stream", StreamMsg{}, PMEmpty{}})
}

// Stream message kinds.
const (
	StreamOpen  uint8 = 1
	StreamData  uint8 = 2
	StreamClose uint8 = 3
)

// StreamMsg is one message of a stream.
type StreamMsg struct {
	Kind   uint8
	Writer string
	Data   []byte
}

// StreamChunk is the most data one stream message carries.
const StreamChunk = 64 << 10

// StreamWriter is one writer of a stream.
type StreamWriter struct {
	c       *Conn
	subject string
	id      string
	mu      sync.Mutex
	closed  bool
}

// OpenStream joins a stream as a writer, waiting up to wait for its reader
// to appear (it may be starting on another node). No reader by then is
// EPIPE.
func OpenStream(ctx context.Context, c *Conn, subject string, wait time.Duration) (*StreamWriter, error) {
	w := &StreamWriter{c: c, subject: subject, id: nuid.Next()}
	deadline := time.Now().Add(wait)
	backoff := time.Millisecond
	for {
		err := w.send(ctx, StreamOpen, nil)
		if err == nil {
			return w, nil
		}
		if !errors.Is(err, ErrNoServer) || time.Now().After(deadline) {
			if errors.Is(err, ErrNoServer) {
				err = EPIPE
			}
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

func (w *StreamWriter) send(ctx context.Context, kind uint8, data []byte) error {
	ep := Endpoint{Prefix: w.subject}
	buf := getBuf()
	defer putBuf(buf)
	if err := appendRequest(buf, OpStream, nil, &StreamMsg{Kind: kind, Writer: w.id, Data: data}); err != nil {
		return err
	}
	m, err := w.c.request(ctx, ep.Prefix, buf.Bytes())
	if err != nil {
		return &CallError{Endpoint: w.subject, Op: OpStream, Err: transportError(err)}
	}
	errno, text, _, err := DecodeReply(m.Data)
	if err != nil {
		return err
	}
	return replyError(errno, text)
}

// Write sends p in chunks, each acknowledged by the reader. A reader that
// went away is EPIPE.
func (w *StreamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, EPIPE
	}
	n := 0
	for n < len(p) {
		end := min(n+StreamChunk, len(p))
		if err := w.send(context.Background(), StreamData, p[n:end]); err != nil {
			if errors.Is(err, ErrNoServer) {
				err = EPIPE
			}
			return n, err
		}
		n = end
	}
	return n, nil
}

// Close leaves the stream; the reader sees end of file when every writer
// has left. A reader that is gone is no error here.
func (w *StreamWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.send(context.Background(), StreamClose, nil)
	if errors.Is(err, ErrNoServer) || errors.Is(err, EPIPE) {
		return nil
	}
	return err
}

// StreamReader serves a stream's subject and writes what arrives to dst.
type StreamReader struct {
	svc     *Service
	dst     io.Writer
	mu      sync.Mutex
	writers map[string]bool
	opened  bool
	failed  bool
	done    chan struct{}
}

// ServeStream starts reading the stream on subject into dst. Messages are
// handled one at a time, in order.
func ServeStream(nc *nats.Conn, subject string, dst io.Writer) (*StreamReader, error) {
	r := &StreamReader{dst: dst, writers: map[string]bool{}, done: make(chan struct{})}
	svc, err := ServeSubject(nc, subject, "", r.handle, ServeOptions{Workers: 1})
	if err != nil {
		return nil, err
	}
	r.svc = svc
	return r, nil
}

func (r *StreamReader) handle(m *Msg) {
	var sm StreamMsg
	if err := m.Decode(&sm); err != nil {
		m.Respond(nil, err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch sm.Kind {
	case StreamOpen:
		r.writers[sm.Writer] = true
		r.opened = true
	case StreamData:
		if r.failed {
			m.Respond(nil, EPIPE)
			return
		}
		if _, err := r.dst.Write(sm.Data); err != nil {
			r.failed = true // the consumer is gone: every writer gets EPIPE
			m.Respond(nil, EPIPE)
			return
		}
	case StreamClose:
		delete(r.writers, sm.Writer)
		if r.opened && len(r.writers) == 0 {
			select {
			case <-r.done:
			default:
				close(r.done)
			}
		}
	default:
		m.Respond(nil, EINVAL)
		return
	}
	m.Respond(&PMEmpty{}, nil)
}

// Done is closed at end of file: every writer that joined has left.
func (r *StreamReader) Done() <-chan struct{} { return r.done }

// Close stops reading; writers get EPIPE from then on.
func (r *StreamReader) Close() { r.svc.Stop() }
