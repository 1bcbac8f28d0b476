package fstest_test

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/vos-os/vos/internal/fstest"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/libvos"
)

// The cases assume umask 022, libvos's default.
func init() { syscall.Umask(0o022) }

// TestHost runs the suite against the host's filesystem: the reference
// the other targets must agree with.
func TestHost(t *testing.T) {
	if syscall.Geteuid() != 0 {
		t.Skip("the suite runs as root (chown)")
	}
	fstest.Run(t, func(t *testing.T) fstest.FS { return fstest.Host(t.TempDir()) })
}

// TestVOS runs the suite through libvos against an instance's FS server.
// Every case works in a fresh directory that its OS has made current, so
// each call also exercises resolution relative to the cwd inode.
func TestVOS(t *testing.T) {
	_, conn := vostest.Instance(t, "fst")
	root := libvos.New(conn, "fst")
	var n atomic.Int64
	fstest.Run(t, func(t *testing.T) fstest.FS {
		dir := fmt.Sprintf("/case%d", n.Add(1))
		if err := root.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		o := libvos.New(conn, "fst")
		if err := o.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		return fstest.VOS(o)
	})
}
