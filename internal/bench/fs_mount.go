package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/hanwen/go-fuse/v2/fuse/nodefs"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/fusefs"
)

// The FUSE gateway's benchmarks: a kernel node with one instance, mounted
// through the gateway (its NATS connection in-process, as the gateway in
// vosd would have), beside go-fuse's example file system (example/memfs:
// nodefs's MemNodeFs, mounted in this process with the same mount and
// cache options). Mounting needs root and /dev/fuse; without them these
// cases fail with the reason.

// Group names (the sequential ones are shared with libvos and the host).
const (
	groupStat     = "Stat latency through FUSE"
	groupCreate   = "Creates through FUSE"
	groupSeqWrite = "Sequential write, 1 GiB in 1 MiB blocks"
	groupSeqRead  = "Sequential read, 1 GiB in 1 MiB blocks"
)

const (
	seqBlock = 1 << 20
	seqFile  = 1 << 30
)

func init() {
	register(
		Case{Group: groupStat, Name: "go-fuse example memfs, no attribute cache", Baseline: true, Callers: 1,
			Run: func(b *testing.B, rec *Recorder) {
				benchStat(b, rec, func(e *mountEnv) string { return e.memNoCache }, 1)
			}},
		Case{Group: groupStat, Name: "VOS mount, no attribute cache", Callers: 1,
			Run: func(b *testing.B, rec *Recorder) {
				benchStat(b, rec, func(e *mountEnv) string { return e.vosNoCache }, 1)
			}},
		Case{Group: groupStat, Name: "go-fuse example memfs, no attribute cache, 4 callers", Callers: 4,
			Run: func(b *testing.B, rec *Recorder) {
				benchStat(b, rec, func(e *mountEnv) string { return e.memNoCache }, 4)
			}},
		Case{Group: groupStat, Name: "VOS mount, no attribute cache, 4 callers", Callers: 4,
			Run: func(b *testing.B, rec *Recorder) {
				benchStat(b, rec, func(e *mountEnv) string { return e.vosNoCache }, 4)
			}},
		Case{Group: groupStat, Name: "VOS mount, 1 s attribute cache (kernel answers)", Callers: 1,
			Run: func(b *testing.B, rec *Recorder) { benchStat(b, rec, func(e *mountEnv) string { return e.vos }, 1) }},

		Case{Group: groupCreate, Name: "go-fuse example memfs", Baseline: true, Callers: 1,
			Run: func(b *testing.B, rec *Recorder) { benchCreate(b, rec, func(e *mountEnv) string { return e.mem }, 1) }},
		Case{Group: groupCreate, Name: "VOS mount", Callers: 1,
			Run: func(b *testing.B, rec *Recorder) { benchCreate(b, rec, func(e *mountEnv) string { return e.vos }, 1) }},
		Case{Group: groupCreate, Name: "go-fuse example memfs, 4 callers (a directory each)", Callers: 4,
			Run: func(b *testing.B, rec *Recorder) { benchCreate(b, rec, func(e *mountEnv) string { return e.mem }, 4) }},
		Case{Group: groupCreate, Name: "VOS mount, 4 callers (a directory each)", Callers: 4,
			Run: func(b *testing.B, rec *Recorder) { benchCreate(b, rec, func(e *mountEnv) string { return e.vos }, 4) }},

		Case{Group: groupSeqWrite, Name: "VOS mount (FUSE gateway, 1 MiB writes, fsync at the end)", Callers: 1,
			Run: func(b *testing.B, rec *Recorder) { benchSeqWrite(b, rec) }},
		Case{Group: groupSeqRead, Name: "VOS mount (FUSE gateway), pages dropped before each pass", Callers: 1,
			Run: func(b *testing.B, rec *Recorder) { benchSeqRead(b, rec, true) }},
		Case{Group: groupSeqRead, Name: "VOS mount (FUSE gateway), kernel page cache kept", Callers: 1,
			Run: func(b *testing.B, rec *Recorder) { benchSeqRead(b, rec, false) }},
	)
	registerGoal(
		AtLeast("FUSE: at least 20k stats/s through the mount, no attribute cache (every stat reaches the FS server), 1 caller",
			groupStat, "VOS mount, no attribute cache", 20000, false),
		AtLeast("FUSE: at least 20k stats/s through the mount, no attribute cache, 4 callers",
			groupStat, "VOS mount, no attribute cache, 4 callers", 20000, false),
		AtLeast("FUSE: at least 5k creates/s through the mount (create+close, 1 caller)", groupCreate, "VOS mount", 5000, false),
		AtLeast("FUSE: at least 1 GB/s sequential read through the mount (from the FS server: pages dropped)",
			groupSeqRead, "VOS mount (FUSE gateway), pages dropped", 1000, true),
		AtLeast("FUSE: at least 500 MB/s sequential write through the mount", groupSeqWrite, "VOS mount (FUSE gateway", 500, true),
	)
}

// mountEnv is instance "benchfs" (on the shared node) mounted twice (default
// caching; no attribute cache) and go-fuse's memfs mounted twice the same
// ways.
type mountEnv struct {
	home            string
	vos, vosNoCache string // mount points
	mem, memNoCache string
	memStore        string // memfs keeps file data in files here
	statFile        string // the file stat cases stat, relative to a mount
	createDirs      atomic.Int64

	seqOnce sync.Once
	seqPath string // the 1 GiB file the read cases read, in vos
	seqErr  error

	gateways   []*fusefs.Gateway
	memServers []*fuse.Server
	closers    []func()
}

var (
	mountOnce sync.Once
	mountE    *mountEnv
	mountErr  error
)

const benchInst = "benchfs"

func mountSetup() (*mountEnv, error) {
	mountOnce.Do(func() {
		e := &mountEnv{}
		mountErr = e.start()
		onClose(e.close)
		if mountErr == nil {
			mountE = e
		}
	})
	return mountE, mountErr
}

func (e *mountEnv) start() error {
	if os.Geteuid() != 0 {
		return errors.New("FUSE benchmarks need root (the gateway calls mount(2) itself)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("FUSE benchmarks need /dev/fuse: %w", err)
	}
	var err error
	if e.home, err = os.MkdirTemp("", "vosbench-fuse-"); err != nil {
		return err
	}
	c, err := instance(benchInst, "name: "+benchInst+"\n")
	if err != nil {
		return err
	}
	mk := func(name string) (string, error) {
		d := filepath.Join(e.home, name)
		return d, os.Mkdir(d, 0o755)
	}
	for _, m := range []struct {
		dir  *string
		name string
		opts fusefs.Options
	}{
		{&e.vos, "vos", fusefs.Options{}},
		{&e.vosNoCache, "vos-nocache", fusefs.Options{AttrTimeout: -1}},
	} {
		if *m.dir, err = mk(m.name); err != nil {
			return err
		}
		g, err := fusefs.Mount(c, benchInst, *m.dir, m.opts)
		if err != nil {
			return err
		}
		e.gateways = append(e.gateways, g)
	}
	if e.memStore, err = mk("memfs-store"); err != nil {
		return err
	}
	for _, m := range []struct {
		dir  *string
		name string
		attr time.Duration
	}{
		{&e.mem, "memfs", time.Second},
		{&e.memNoCache, "memfs-nocache", 0},
	} {
		if *m.dir, err = mk(m.name); err != nil {
			return err
		}
		if err := e.mountMemfs(*m.dir, m.attr); err != nil {
			return err
		}
	}
	// The file the stat cases stat, in every file system.
	e.statFile = "stat-me"
	for _, d := range []string{e.vos, e.mem, e.memNoCache} {
		if err := os.WriteFile(filepath.Join(d, e.statFile), []byte("hello"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// mountMemfs mounts go-fuse's example memfs (example/memfs does exactly
// this) with the gateway's mount options and the given attribute timeout.
func (e *mountEnv) mountMemfs(dir string, attr time.Duration) error {
	root := nodefs.NewMemNodeFSRoot(filepath.Join(e.memStore, filepath.Base(dir)) + "-")
	conn := nodefs.NewFileSystemConnector(root, &nodefs.Options{
		EntryTimeout: fusefs.DefaultEntryTimeout, AttrTimeout: attr, NegativeTimeout: fusefs.DefaultNegativeTimeout})
	srv, err := fuse.NewServer(conn.RawFS(), dir, &fuse.MountOptions{
		DirectMount: true, AllowOther: true, MaxWrite: ipc.MaxIO, MaxBackground: 64,
		FsName: "memfs", Name: "memfs", DisableXAttrs: true})
	if err != nil {
		return err
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		return err
	}
	e.memServers = append(e.memServers, srv)
	return nil
}

func (e *mountEnv) close() {
	for _, g := range e.gateways {
		if g.Unmount() != nil {
			_ = syscall.Unmount(g.Dir(), syscall.MNT_DETACH)
		}
	}
	for _, s := range e.memServers {
		_ = s.Unmount()
	}
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	if e.home != "" {
		os.RemoveAll(e.home)
	}
}

func benchStat(b *testing.B, rec *Recorder, dir func(*mountEnv) string, callers int) {
	e, err := mountSetup()
	if err != nil {
		fatal(b, err)
	}
	path := filepath.Join(dir(e), e.statFile)
	Parallel(b, rec, callers, func(int) string { return path }, func(p string) error {
		var st syscall.Stat_t
		return syscall.Stat(p, &st)
	})
}

func benchCreate(b *testing.B, rec *Recorder, dir func(*mountEnv) string, callers int) {
	e, err := mountSetup()
	if err != nil {
		fatal(b, err)
	}
	// One directory per caller: creates in one directory are serialized
	// by the kernel's lock on it, whatever the file system.
	base := filepath.Join(dir(e), fmt.Sprintf("creates-%d", e.createDirs.Add(1)))
	if err := os.Mkdir(base, 0o755); err != nil {
		fatal(b, err)
	}
	var next atomic.Int64
	Parallel(b, rec, callers, func(i int) string {
		d := filepath.Join(base, fmt.Sprint(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			fatal(b, err)
		}
		return d
	}, func(d string) error {
		fd, err := syscall.Open(filepath.Join(d, fmt.Sprintf("f%d", next.Add(1))), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return err
		}
		return syscall.Close(fd)
	})
}

var seqData = func() []byte {
	b := make([]byte, seqBlock)
	for i := range b {
		b[i] = byte(i*7 + i>>10)
	}
	return b
}()

// seqFileReady writes the 1 GiB file the read cases read.
func (e *mountEnv) seqFileReady() error {
	e.seqOnce.Do(func() {
		e.seqPath = filepath.Join(e.vos, "seq-1g")
		f, err := os.OpenFile(e.seqPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			e.seqErr = err
			return
		}
		for off := int64(0); off < seqFile && err == nil; off += seqBlock {
			_, err = f.WriteAt(seqData, off)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		e.seqErr = err
	})
	return e.seqErr
}

// benchSeqWrite: one op is one 1 MiB write; the ops go through a 1 GiB
// file in order, starting over at its beginning.
func benchSeqWrite(b *testing.B, rec *Recorder) {
	e, err := mountSetup()
	if err != nil {
		fatal(b, err)
	}
	f, err := os.OpenFile(filepath.Join(e.vos, "seq-write"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	var off int64
	Parallel(b, rec, 1, func(int) *os.File { return f }, func(f *os.File) error {
		_, err := f.WriteAt(seqData, off)
		off = (off + seqBlock) % seqFile
		return err
	})
	b.StartTimer() // as the other rows of the group: fsync at the end, timed
	if err := f.Sync(); err != nil {
		fatal(b, err)
	}
	b.StopTimer()
	Throughput(b, int64(b.N)*seqBlock)
}

// benchSeqRead: one op is one 1 MiB read, in order through the 1 GiB
// file, starting over at its beginning. With drop, each pass starts with
// the file's pages dropped from the kernel (POSIX_FADV_DONTNEED), so
// every byte comes from the FS server; without, the kernel keeps them
// across passes (the gateway's FOPEN_KEEP_CACHE), as a program rereading
// an unchanged file gets.
func benchSeqRead(b *testing.B, rec *Recorder, drop bool) {
	e, err := mountSetup()
	if err != nil {
		fatal(b, err)
	}
	if err := e.seqFileReady(); err != nil {
		fatal(b, err)
	}
	f, err := os.Open(e.seqPath)
	if err != nil {
		fatal(b, err)
	}
	defer f.Close()
	buf := make([]byte, seqBlock)
	var off int64
	dropPages := func() error {
		return fadviseDontNeed(int(f.Fd()))
	}
	if drop {
		if err := dropPages(); err != nil {
			fatal(b, err)
		}
	} else {
		// One untimed pass puts the whole file in the kernel's cache.
		for o := int64(0); o < seqFile; o += seqBlock {
			if _, err := f.ReadAt(buf, o); err != nil {
				fatal(b, err)
			}
		}
	}
	Parallel(b, rec, 1, func(int) *os.File { return f }, func(f *os.File) error {
		if off == 0 && drop {
			b.StopTimer()
			err := dropPages()
			b.StartTimer()
			if err != nil {
				return err
			}
		}
		n, err := f.ReadAt(buf, off)
		if err != nil || n != seqBlock {
			return fmt.Errorf("read at %d: %d bytes, %v", off, n, err)
		}
		off = (off + seqBlock) % seqFile
		return nil
	})
	Throughput(b, int64(b.N)*seqBlock)
}

func fadviseDontNeed(fd int) error {
	const posixFadvDontneed = 4
	_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, uintptr(fd), 0, 0, posixFadvDontneed, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
