package pod_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/vos-os/vos/kernel/pod"
)

// fuseRoot is a small served root: the pod's mount points as folders, a
// file, and a file whose open never gets an answer until released.
type fuseRoot struct {
	fs.Inode
	dirs    []string
	entered chan struct{}
	release chan struct{}
}

func (r *fuseRoot) OnAdd(ctx context.Context) {
	for _, d := range r.dirs {
		n := &r.Inode
		for _, c := range strings.Split(strings.Trim(d, "/"), "/") {
			ch := n.GetChild(c)
			if ch == nil {
				ch = n.NewPersistentInode(ctx, &fs.Inode{}, fs.StableAttr{Mode: syscall.S_IFDIR})
				n.AddChild(c, ch, false)
			}
			n = ch
		}
	}
	r.AddChild("hello", r.NewPersistentInode(ctx, &fs.MemRegularFile{Data: []byte("hello from fuse\n"),
		Attr: fuse.Attr{Mode: 0o444}}, fs.StableAttr{}), false)
	r.AddChild("hang", r.NewPersistentInode(ctx, &hangFile{r: r}, fs.StableAttr{}), false)
}

type hangFile struct {
	fs.Inode
	r    *fuseRoot
	once sync.Once
}

func (h *hangFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	h.once.Do(func() { close(h.r.entered) })
	<-h.r.release // a server that stopped answering
	return nil, 0, syscall.EIO
}

// serveFUSE is a ServeFUSE hook with go-fuse: the already-mounted
// descriptor is served through the "/dev/fd/N" mount point.
func serveFUSE(root fs.InodeEmbedder) func(*os.File) error {
	return func(f *os.File) error {
		// go-fuse takes the number over (and closes it): give it its own.
		fd, err := syscall.Dup(int(f.Fd()))
		f.Close()
		if err != nil {
			return err
		}
		syscall.CloseOnExec(fd)
		srv, err := fuse.NewServer(fs.NewNodeFS(root, &fs.Options{}), fmt.Sprintf("/dev/fd/%d", fd), &fuse.MountOptions{})
		if err != nil {
			syscall.Close(fd)
			return err
		}
		go srv.Serve()
		return srv.WaitMount()
	}
}

func TestFUSERootAndAbortOnDestroy(t *testing.T) {
	requirePods(t)
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
	cfg := newConfig(t, "fuse")
	cfg.Root = pod.Root{FUSE: true}
	root := &fuseRoot{dirs: pod.MountPoints(&cfg), entered: make(chan struct{}), release: make(chan struct{})}
	defer close(root.release)
	cfg.ServeFUSE = serveFUSE(root)
	p, err := pod.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, st := run(t, p, &pod.Cmd{Argv: []string{"/bin/sh", "-c", "cat /hello; grep ' / ' /proc/self/mountinfo"}})
	if st.Code != 0 || !strings.HasPrefix(out, "hello from fuse\n") || !strings.Contains(out, "nosuid,nodev") ||
		!strings.Contains(out, " - fuse vos ") {
		t.Fatalf("%+v %q", st, out)
	}
	// A program blocked on a request the server never answers: Destroy
	// aborts the connection, so it does not stay in D state (and the pid
	// namespace can end).
	hung, err := p.Start(&pod.Cmd{Argv: []string{"/bin/cat", "/hang"}})
	if err != nil {
		t.Fatal(err)
	}
	<-root.entered
	if err := p.Destroy(); err != nil {
		t.Fatal(err)
	}
	hung.Wait()
	if !gone(hung.HostPid) {
		t.Fatalf("program blocked on FUSE still there")
	}
}
