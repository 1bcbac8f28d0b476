package bench

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
)

// Sequential I/O: one iteration moves one 1 MiB block; the file wraps
// around at 1 GiB, so a long run rewrites (or rereads) the same 1 GiB file
// from the start. Throughput is MB/s over the whole run; p50/p99 are per
// 1 MiB block.
const (
	lvGroupWrite = "Sequential write, 1 GiB in 1 MiB blocks"
	lvGroupRead  = "Sequential read, 1 GiB in 1 MiB blocks"
	lvBlock      = 1 << 20
	lvFileSize   = 1 << 30
)

// lvEnv is the instance the libvos cases use, on the shared node.
type lvEnv struct {
	Inst string
	// OS is a libvos view of Inst as root, over its own in-process
	// connection, as a process on the node would have.
	OS *libvos.OS
}

var (
	lvOnce sync.Once
	lvE    *lvEnv
	lvErr  error
)

// lvSetup launches the instance once.
func lvSetup() (*lvEnv, error) {
	lvOnce.Do(func() {
		e := &lvEnv{Inst: "benchlv"}
		c, err := instance(e.Inst, "name: "+e.Inst+"\n")
		if err != nil {
			lvErr = err
			return
		}
		e.OS = libvos.New(c.WithCred(&ipc.Root), e.Inst)
		lvE = e
	})
	return lvE, lvErr
}

// lvFile is what the sequential cases need of a file: *os.File and
// *libvos.File both are one.
type lvFile interface {
	io.ReadWriteSeeker
	Sync() error
	Close() error
}

var lvData = func() []byte {
	b := make([]byte, lvBlock)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// lvSeqRun times b.N block operations on f from offset 0, wrapping at 1 GiB,
// then finish (fsync for writes) inside the timing.
func lvSeqRun(b *testing.B, rec *Recorder, f lvFile, op func([]byte) (int, error), finish func() error) {
	buf := make([]byte, lvBlock)
	copy(buf, lvData)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		fatal(b, err)
	}
	lane := rec.Lane()
	defer lane.Done()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%(lvFileSize/lvBlock) == 0 {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				fatal(b, err)
			}
		}
		t0 := time.Now()
		n, err := op(buf)
		if err != nil || n != lvBlock {
			fatalf(b, "block %d: %d bytes, %v", i, n, err)
		}
		lane.Add(time.Since(t0))
	}
	if finish != nil {
		if err := finish(); err != nil {
			fatal(b, err)
		}
	}
	b.StopTimer()
	Throughput(b, int64(b.N)*lvBlock)
}

// Files read by the read cases, written once (1 GiB each) on first use.
var (
	lvHostReadOnce, lvVOSReadOnce sync.Once
	lvHostReadPath                string
	lvHostReadErr, lvVOSReadErr   error
)

const lvVOSReadPath = "/seqread"

func lvFill(f io.Writer) error {
	for off := 0; off < lvFileSize; off += lvBlock {
		if _, err := f.Write(lvData); err != nil {
			return err
		}
	}
	return nil
}

func lvHostDir() (string, error) {
	dir, err := os.MkdirTemp("", "vosbench-host-")
	if err == nil {
		onClose(func() { os.RemoveAll(dir) })
	}
	return dir, err
}

func lvBenchHostWrite(b *testing.B, rec *Recorder) {
	dir, err := lvHostDir()
	if err != nil {
		fatal(b, err)
	}
	f, err := os.Create(filepath.Join(dir, "seqwrite"))
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	lvSeqRun(b, rec, f, f.Write, f.Sync)
}

func lvBenchHostRead(b *testing.B, rec *Recorder) {
	lvHostReadOnce.Do(func() {
		dir, err := lvHostDir()
		if err != nil {
			lvHostReadErr = err
			return
		}
		lvHostReadPath = filepath.Join(dir, "seqread")
		f, err := os.Create(lvHostReadPath)
		if err != nil {
			lvHostReadErr = err
			return
		}
		if lvHostReadErr = lvFill(f); lvHostReadErr == nil {
			lvHostReadErr = f.Close()
		}
	})
	if lvHostReadErr != nil {
		fatal(b, lvHostReadErr)
	}
	f, err := os.Open(lvHostReadPath)
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	lvSeqRun(b, rec, f, func(p []byte) (int, error) { return io.ReadFull(f, p) }, nil)
}

func lvBenchVOSWrite(b *testing.B, rec *Recorder) {
	e, err := lvSetup()
	if err != nil {
		fatal(b, err)
	}
	f, err := e.OS.Create("/seqwrite")
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	lvSeqRun(b, rec, f, f.Write, f.Sync)
}

// lvVOSReadFile writes the 1 GiB file the read cases read, once.
func lvVOSReadFile(e *lvEnv) error {
	lvVOSReadOnce.Do(func() {
		f, err := e.OS.Create(lvVOSReadPath)
		if err != nil {
			lvVOSReadErr = err
			return
		}
		if lvVOSReadErr = lvFill(f); lvVOSReadErr == nil {
			lvVOSReadErr = f.Close()
		}
	})
	return lvVOSReadErr
}

func lvBenchVOSRead(b *testing.B, rec *Recorder) {
	e, err := lvSetup()
	if err != nil {
		fatal(b, err)
	}
	if err := lvVOSReadFile(e); err != nil {
		fatal(b, err)
	}
	f, err := e.OS.Open(lvVOSReadPath)
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	lvSeqRun(b, rec, f, func(p []byte) (int, error) { return io.ReadFull(f, p) }, nil)
}

// lvRepeat reads lvData over and over.
type lvRepeat struct{ off int }

func (r *lvRepeat) Read(p []byte) (int, error) {
	n := copy(p, lvData[r.off:])
	r.off = (r.off + n) % lvBlock
	return n, nil
}

// lvLimitWriter takes n bytes, then stops the copy with lvErrLimit.
type lvLimitWriter struct{ n int64 }

var lvErrLimit = errors.New("limit reached")

func (w *lvLimitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.n {
		k := w.n
		w.n = 0
		return int(k), lvErrLimit
	}
	w.n -= int64(len(p))
	return len(p), nil
}

// lvCopyRun moves b.N blocks with io.Copy-style calls of up to 1 GiB each
// (libvos keeps 8 MiB in flight); p50/p99 are then the mean per block of
// each call.
func lvCopyRun(b *testing.B, rec *Recorder, f *libvos.File, copyN func(n int64) error, finish func() error) {
	lane := rec.Lane()
	defer lane.Done()
	b.ResetTimer()
	for left := b.N; left > 0; {
		k := min(left, lvFileSize/lvBlock)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			fatal(b, err)
		}
		t0 := time.Now()
		if err := copyN(int64(k) * lvBlock); err != nil {
			fatal(b, err)
		}
		per := time.Since(t0) / time.Duration(k)
		for range k {
			lane.Add(per)
		}
		left -= k
	}
	if finish != nil {
		if err := finish(); err != nil {
			fatal(b, err)
		}
	}
	b.StopTimer()
	Throughput(b, int64(b.N)*lvBlock)
}

func lvBenchVOSCopyWrite(b *testing.B, rec *Recorder) {
	e, err := lvSetup()
	if err != nil {
		fatal(b, err)
	}
	f, err := e.OS.Create("/seqcopy")
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	src := &lvRepeat{}
	lvCopyRun(b, rec, f, func(n int64) error {
		_, err := io.Copy(f, io.LimitReader(src, n)) // File.ReadFrom
		return err
	}, f.Sync)
}

func lvBenchVOSCopyRead(b *testing.B, rec *Recorder) {
	e, err := lvSetup()
	if err != nil {
		fatal(b, err)
	}
	if err := lvVOSReadFile(e); err != nil {
		fatal(b, err)
	}
	f, err := e.OS.Open(lvVOSReadPath)
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	lvCopyRun(b, rec, f, func(n int64) error {
		_, err := f.WriteTo(&lvLimitWriter{n: n})
		if errors.Is(err, lvErrLimit) {
			err = nil
		}
		return err
	}, nil)
}

func init() {
	register(
		Case{Group: lvGroupWrite, Name: "host filesystem (temp dir, fsync at the end)", Baseline: true, Callers: 1, Run: lvBenchHostWrite},
		Case{Group: lvGroupWrite, Name: "libvos (1 MiB Write calls, fsync at the end)", Callers: 1, Run: lvBenchVOSWrite},
		Case{Group: lvGroupRead, Name: "host filesystem (temp dir, page cache)", Baseline: true, Callers: 1, Run: lvBenchHostRead},
		Case{Group: lvGroupRead, Name: "libvos (1 MiB Read calls)", Callers: 1, Run: lvBenchVOSRead},
		Case{Group: lvGroupWrite, Name: "libvos io.Copy (File.ReadFrom, 8 MiB in flight)", Callers: 1, Run: lvBenchVOSCopyWrite},
		Case{Group: lvGroupRead, Name: "libvos io.Copy (File.WriteTo, 8 MiB in flight)", Callers: 1, Run: lvBenchVOSCopyRead},
	)
	registerGoal(
		AtLeast("FS: at least 1 GB/s sequential read through libvos (1 MiB blocks)", lvGroupRead, "libvos", 1000, true),
		AtLeast("FS: at least 500 MB/s sequential write through libvos (1 MiB blocks)", lvGroupWrite, "libvos", 500, true),
	)
}
