package sh

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/vos-os/vos/libvos"
)

// The shell's own standard streams and how its children reach them.
//
// Output: a child writes either straight into the stream the shell's own
// output goes to (when the shell is a VOS process whose stdout is a
// stream), or into a relay stream the shell serves and copies into its
// own writer (a test's buffer, a terminal, a file the system task opened).
//
// Input: a stream has exactly one reader (a second reader of the same
// subject gets every message too, and one that joins after a writer never
// sees end of file), so a child cannot read the shell's stdin stream
// itself. The shell reads its stdin and relays it into a pipe that the
// foreground pipeline's first command reads, for as long as that command
// runs. What the relay has sent is the child's, read or not (its system
// task takes it at once: a command that never reads stdin, as sleep,
// still swallows what is typed meanwhile); what it has not sent stays for
// the shell's next line or the next command.

// lockedWriter serializes writes from the shell, its relays and its
// background jobs.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// outlet is where children's output goes for one of the shell's streams.
type outlet struct {
	w io.Writer // the shell's own writer (builtins and the relay write here)

	mu     sync.Mutex
	direct libvos.Stdio // the shell's own stream, when children may join it
	relay  *libvos.PipeReader
	hold   *libvos.PipeWriter
	pipe   *libvos.Pipe
}

// stdio returns what a child's stream should be, serving the relay on
// first use.
func (ol *outlet) stdio(o *libvos.OS) (libvos.Stdio, error) {
	ol.mu.Lock()
	defer ol.mu.Unlock()
	switch {
	case ol.direct.IsStream():
		return ol.direct, nil
	case ol.w == nil:
		return libvos.Null(), nil
	case ol.relay != nil:
		return ol.pipe.Stdio(), nil
	}
	p := o.Pipe()
	r, err := p.ReadTo(ol.w)
	if err != nil {
		return libvos.Stdio{}, err
	}
	// Held until the shell ends, so that the relay's end of file means
	// every child is done.
	h, err := p.Writer(context.Background())
	if err != nil {
		r.Close()
		return libvos.Stdio{}, err
	}
	ol.relay, ol.hold, ol.pipe = r, h, p
	return p.Stdio(), nil
}

// close stops the relay, after the output of every child that still
// writes to it if wait is set.
func (ol *outlet) close(wait bool) {
	ol.mu.Lock()
	defer ol.mu.Unlock()
	if ol.relay == nil {
		return
	}
	_ = ol.hold.Close()
	if wait {
		select {
		case <-ol.relay.Done():
		case <-time.After(30 * time.Second):
		}
	}
	ol.relay.Close()
	ol.relay, ol.hold = nil, nil
}

// input is the shell's stdin, read by one goroutine and handed out in
// chunks to whoever reads: the shell itself (a line at a time) or the
// relay into a child's stdin. Data taken but not used is given back with
// unread.
type input struct {
	src io.Reader
	tty bool // end of file is not final (^D at a terminal)

	mu      sync.Mutex
	pending []byte
	wake    chan struct{} // closed (and replaced) when pending is refilled
	eof     bool
	started bool
	ch      chan chunk
	quit    chan struct{} // closed by stop: the reader goroutine ends
}

type chunk struct {
	b   []byte
	err error
}

// errCanceled is a read given up (the stop channel closed).
var errCanceled = errors.New("canceled")

func newInput(src io.Reader, tty bool) *input {
	return &input{src: src, tty: tty, ch: make(chan chunk), wake: make(chan struct{}), quit: make(chan struct{})}
}

func (in *input) reader() {
	for {
		buf := make([]byte, 32<<10)
		n, err := in.src.Read(buf)
		if n > 0 && !in.send(chunk{b: buf[:n]}) {
			return
		}
		if err != nil {
			if !in.send(chunk{err: err}) {
				return
			}
			if err == io.EOF && in.tty {
				continue
			}
			return
		}
	}
}

func (in *input) send(c chunk) bool {
	select {
	case in.ch <- c:
		return true
	case <-in.quit:
		return false
	}
}

// stop ends the reader goroutine (once it has its next chunk).
func (in *input) stop() {
	in.mu.Lock()
	defer in.mu.Unlock()
	select {
	case <-in.quit:
	default:
		close(in.quit)
	}
}

// atEOF tells whether the input has ended for good.
func (in *input) atEOF() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.eof && len(in.pending) == 0
}

// next returns the next chunk of input, or an error: io.EOF at the end,
// errCanceled when stop is closed (before or meanwhile: a reader that
// gave up never takes data).
func (in *input) next(stop <-chan struct{}) ([]byte, error) {
	for {
		select {
		case <-stop:
			return nil, errCanceled
		default:
		}
		in.mu.Lock()
		if len(in.pending) > 0 {
			b := in.pending
			in.pending = nil
			in.mu.Unlock()
			return b, nil
		}
		if in.eof {
			in.mu.Unlock()
			return nil, io.EOF
		}
		if !in.started {
			in.started = true
			go in.reader()
		}
		wake := in.wake
		in.mu.Unlock()
		select {
		case c := <-in.ch:
			if c.err != nil && !(in.tty && c.err == io.EOF) {
				in.mu.Lock()
				in.eof = true
				in.mu.Unlock()
			}
			select {
			case <-stop:
				in.unread(c.b)
				return nil, errCanceled
			default:
			}
			if c.err != nil && c.err != io.EOF {
				c.err = io.EOF // a broken stdin ends like an empty one
			}
			return c.b, c.err
		case <-wake:
		case <-stop:
			return nil, errCanceled
		}
	}
}

// unread gives back data for the next reader.
func (in *input) unread(b []byte) {
	if len(b) == 0 {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.pending = append(append([]byte(nil), b...), in.pending...)
	close(in.wake)
	in.wake = make(chan struct{})
}

// readLine returns the next line with its newline; at the end of input,
// what is left and io.EOF.
func (in *input) readLine(stop <-chan struct{}) (string, error) {
	var line []byte
	for {
		b, err := in.next(stop)
		if i := indexByte(b, '\n'); i >= 0 {
			in.unread(b[i+1:])
			return string(append(line, b[:i+1]...)), nil
		}
		line = append(line, b...)
		if err != nil {
			if err == errCanceled {
				return "", err // ^C drops the line
			}
			return string(line), err
		}
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// relay copies input into a child's stdin stream until the input ends
// (then the child sees end of file) or stop closes (the child ended).
func (in *input) relay(w io.WriteCloser, stop <-chan struct{}) {
	defer w.Close()
	for {
		b, err := in.next(stop)
		if len(b) > 0 {
			n, werr := w.Write(b)
			if werr != nil {
				in.unread(b[n:]) // the child is gone: keep the rest
				return
			}
		}
		if err != nil {
			return
		}
	}
}
