package fstest_test

import (
	"fmt"
	"path"
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

// vosKnownBugs names the cases that fail against servers/fs today and
// why; each is reported to the FS server's owner. Delete a row when fixed.
var vosKnownBugs = map[string]string{
	"ChownClearsSetuid": "setattr clears set-user-ID/set-group-ID on chown only for non-root callers " +
		"(servers/fs/ops.go: `cred.UID != 0 && in.isReg()`), and then clears set-group-ID even without " +
		"group execute; Linux clears S_ISUID for every caller and S_ISGID only with S_IXGRP",
	"TruncateHugeSparse": "truncate deletes every block index from the new size to the old one, stored or " +
		"not (servers/fs/data.go clear: one KV delete per 128 KiB of hole, 32768 for 4 GiB, ~8 s for 64 GiB, " +
		"while holding the inode's I/O lock), and does not bound its async publishes: it fails with " +
		"\"nats: stalled with too many outstanding async published messages\" when JetStream lags",
}

// TestVOS runs the suite through libvos against an instance's FS server.
// Every case works in a fresh directory that its OS has made current, so
// each call also exercises resolution relative to the cwd inode.
func TestVOS(t *testing.T) {
	_, conn := vostest.Instance(t, "fst")
	root := libvos.New(conn, "fst")
	var n atomic.Int64
	fstest.Run(t, func(t *testing.T) fstest.FS {
		if why, ok := vosKnownBugs[path.Base(t.Name())]; ok {
			t.Skip("known servers/fs bug: " + why)
		}
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
