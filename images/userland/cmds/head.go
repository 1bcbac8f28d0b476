package cmds

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/vos-os/vos/libvos"
)

func init() {
	Register("head", head)
	Register("tail", tail)
}

// head prints the first lines of files: head [-n N | -c N] [FILE...],
// stdin with no FILE (or for "-"); 10 lines unless told, -c counts bytes
// instead. With several files each is introduced by "==> FILE <==".
func head(e *Env, args ...string) error {
	f := newFlags(e, "head", "[-n N | -c N] [FILE...]")
	lines := count{n: 10}
	var nbytes count
	f.Var(&lines, "n", "print the first `N` lines")
	f.Var(&nbytes, "c", "print the first `N` bytes")
	names, err := f.parse(oldCount(args))
	if err != nil {
		return err
	}
	return eachFile(e, "head", names, func(w *bufio.Writer, name string) error {
		r, err := e.openInput(name)
		if err != nil {
			return err
		}
		defer r.Close()
		if nbytes.set {
			_, err = io.CopyN(w, r, nbytes.n)
			if err == io.EOF {
				err = nil
			}
			return err
		}
		br := bufio.NewReader(r)
		for n := lines.n; n > 0; {
			line, err := br.ReadSlice('\n')
			w.Write(line)
			switch err {
			case nil:
				n--
			case bufio.ErrBufferFull: // a long line goes on
			case io.EOF:
				return nil
			default:
				return err
			}
		}
		return nil
	})
}

// tail prints the last lines of files: tail [-n [+]N | -c [+]N] [FILE...],
// stdin with no FILE (or for "-"); 10 lines unless told, -c counts bytes
// instead, +N starts at line (byte) N. With several files each is
// introduced by "==> FILE <==". A file is read from its end, not through.
func tail(e *Env, args ...string) error {
	f := newFlags(e, "tail", "[-n [+]N | -c [+]N] [FILE...]")
	lines := count{n: 10}
	var nbytes count
	f.Var(&lines, "n", "print the last `N` lines (+N: from line N)")
	f.Var(&nbytes, "c", "print the last `N` bytes (+N: from byte N)")
	names, err := f.parse(oldCount(args))
	if err != nil {
		return err
	}
	return eachFile(e, "tail", names, func(w *bufio.Writer, name string) error {
		r, err := e.openInput(name)
		if err != nil {
			return err
		}
		defer r.Close()
		c, byBytes := lines, false
		if nbytes.set {
			c, byBytes = nbytes, true
		}
		if c.plus {
			return skipThenCopy(w, r, c.n-1, byBytes)
		}
		if file, ok := r.(*libvos.File); ok {
			return tailFile(w, file, c.n, byBytes)
		}
		return tailStream(w, r, c.n, byBytes)
	})
}

// eachFile runs fn for each input (stdin if none), with head's and tail's
// headers between several, and turns the errors fn prints into the exit
// status.
func eachFile(e *Env, name string, names []string, fn func(w *bufio.Writer, name string) error) error {
	if len(names) == 0 {
		names = []string{"-"}
	}
	w := bufio.NewWriter(e.Stdout)
	bad := false
	for i, n := range names {
		if len(names) > 1 {
			if i > 0 {
				w.WriteString("\n")
			}
			label := n
			if n == "-" {
				label = "standard input"
			}
			fmt.Fprintf(w, "==> %s <==\n", label)
		}
		if err := fn(w, n); err != nil {
			w.Flush()
			warn(e, name, err)
			bad = true
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return failed(bad)
}

// skipThenCopy copies r to w after its first n lines (or bytes).
func skipThenCopy(w io.Writer, r io.Reader, n int64, byBytes bool) error {
	if byBytes {
		if _, err := io.CopyN(io.Discard, r, n); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		_, err := io.Copy(w, r)
		return err
	}
	br := bufio.NewReader(r)
	for n > 0 {
		_, err := br.ReadSlice('\n')
		switch err {
		case nil:
			n--
		case bufio.ErrBufferFull:
		case io.EOF:
			return nil
		default:
			return err
		}
	}
	_, err := io.Copy(w, br)
	return err
}

// tailFile copies a file's last n lines (or bytes), found by reading back
// from its end.
func tailFile(w io.Writer, f *libvos.File, n int64, byBytes bool) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	start := max(size-n, 0)
	if !byBytes {
		if start, err = tailStart(f, size, n); err != nil {
			return err
		}
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// tailStart is where the last n lines of a file of size bytes start: just
// after the n-th newline from the end, not counting one that ends the file.
func tailStart(r io.ReaderAt, size, n int64) (int64, error) {
	if n == 0 {
		return size, nil
	}
	buf := make([]byte, 64<<10)
	for pos := size; pos > 0; {
		m := min(int64(len(buf)), pos)
		pos -= m
		if _, err := r.ReadAt(buf[:m], pos); err != nil && err != io.EOF {
			return 0, err
		}
		for i := m - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == size-1 {
				continue
			}
			if n--; n == 0 {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}

// tailStream copies the last n lines (or bytes) of a stream, which it must
// read through, keeping only those.
func tailStream(w io.Writer, r io.Reader, n int64, byBytes bool) error {
	if byBytes {
		var keep []byte
		buf := make([]byte, 32<<10)
		for {
			m, err := r.Read(buf)
			keep = append(keep, buf[:m]...)
			if int64(len(keep)) > 2*n+int64(len(buf)) {
				keep = append(keep[:0], keep[int64(len(keep))-n:]...)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if int64(len(keep)) > n {
			keep = keep[int64(len(keep))-n:]
		}
		_, err := w.Write(keep)
		return err
	}
	var ring [][]byte
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && n > 0 {
			if int64(len(ring)) == n {
				ring = ring[1:]
			}
			ring = append(ring, line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	_, err := w.Write(bytes.Join(ring, nil))
	return err
}

// count is the N of head's and tail's -n and -c: a number of lines or
// bytes, which may be +N (tail: from the start).
type count struct {
	n    int64
	plus bool
	set  bool
}

func (c *count) String() string {
	if c == nil {
		return ""
	}
	if c.plus {
		return "+" + strconv.FormatInt(c.n, 10)
	}
	return strconv.FormatInt(c.n, 10)
}

func (c *count) Set(s string) error {
	plus := strings.HasPrefix(s, "+")
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("not a count")
	}
	*c = count{n: n, plus: plus, set: true}
	return nil
}

var oldCountRE = regexp.MustCompile(`^-[0-9]+$`)

// oldCount turns the historical "head -5" into "head -n 5".
func oldCount(args []string) []string {
	if len(args) > 0 && oldCountRE.MatchString(args[0]) {
		return append([]string{"-n", args[0][1:]}, args[1:]...)
	}
	return args
}
