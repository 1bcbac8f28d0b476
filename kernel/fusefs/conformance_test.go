package fusefs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/vos-os/vos/internal/fstest"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/kernel/fusefs"
)

// TestConformance runs VOS's own conformance suite (internal/fstest)
// through the mount, with the host adapter pointed at the mount: the same
// cases the host filesystem and libvos pass.
func TestConformance(t *testing.T) {
	needFUSE(t)
	old := syscall.Umask(0o022) // the cases assume it
	t.Cleanup(func() { syscall.Umask(old) })
	_, c := vostest.Instance(t, "conform")
	_, dir := mount(t, c, "conform", "", fusefs.Options{})
	var n atomic.Int64
	fstest.Run(t, func(t *testing.T) fstest.FS {
		sub := filepath.Join(dir, fmt.Sprintf("case%d", n.Add(1)))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		return fstest.Host(sub)
	})
}
