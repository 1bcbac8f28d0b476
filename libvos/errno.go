package libvos

import (
	"errors"
	"syscall"

	"github.com/vos-os/vos/ipc"
)

// ErrnoOf is the Linux error number that err carries (a server's answer,
// under whatever wraps it), as a syscall.Errno: a message printed from it
// reads as the os package's would. To test for one errno,
// errors.Is(err, syscall.ENOENT) is enough.
func ErrnoOf(err error) (syscall.Errno, bool) {
	var e ipc.Errno
	if errors.As(err, &e) {
		return syscall.Errno(e), true
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return se, true
	}
	return 0, false
}
