package ipc

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// Errno is a Linux error number. Servers reply with it, libvos returns it
// wrapped in *fs.PathError, and the FUSE gateway hands it to the kernel
// unchanged, so the numbers must be Linux's own.
type Errno uint16

// The errno values VOS uses, with Linux's numbers.
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	ESRCH        Errno = 3
	EINTR        Errno = 4
	EIO          Errno = 5
	ENXIO        Errno = 6
	E2BIG        Errno = 7
	ENOEXEC      Errno = 8
	EBADF        Errno = 9
	ECHILD       Errno = 10
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EXDEV        Errno = 18
	ENODEV       Errno = 19
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	ENFILE       Errno = 23
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	EFBIG        Errno = 27
	ENOSPC       Errno = 28
	ESPIPE       Errno = 29
	EROFS        Errno = 30
	EMLINK       Errno = 31
	EPIPE        Errno = 32
	ERANGE       Errno = 34
	EDEADLK      Errno = 35
	ENAMETOOLONG Errno = 36
	ENOSYS       Errno = 38
	ENOTEMPTY    Errno = 39
	ELOOP        Errno = 40
	ENODATA      Errno = 61
	EPROTO       Errno = 71
	EBADMSG      Errno = 74
	EOVERFLOW    Errno = 75
	ENOTSUP      Errno = 95
	EADDRINUSE   Errno = 98
	ECONNREFUSED Errno = 111
	ENOTCONN     Errno = 107 // reserved: a failing server's "not handled" (see Service.Reject)
	ETIMEDOUT    Errno = 110
	EHOSTDOWN    Errno = 112
	ECANCELED    Errno = 125
)

var errnoNames = map[Errno]string{
	EPERM: "operation not permitted", ENOENT: "no such file or directory",
	ESRCH: "no such process", EINTR: "interrupted system call",
	EIO: "input/output error", ENXIO: "no such device or address",
	E2BIG: "argument list too long", ENOEXEC: "exec format error",
	EBADF: "bad file descriptor", ECHILD: "no child processes",
	EAGAIN: "resource temporarily unavailable", ENOMEM: "cannot allocate memory",
	EACCES: "permission denied", EFAULT: "bad address", EBUSY: "device or resource busy",
	EEXIST: "file exists", EXDEV: "invalid cross-device link", ENODEV: "no such device",
	ENOTDIR: "not a directory", EISDIR: "is a directory", EINVAL: "invalid argument",
	ENFILE: "too many open files in system", EMFILE: "too many open files",
	ENOTTY: "inappropriate ioctl for device", EFBIG: "file too large",
	ENOSPC: "no space left on device", ESPIPE: "illegal seek",
	EROFS: "read-only file system", EMLINK: "too many links", EPIPE: "broken pipe",
	ERANGE: "numerical result out of range", EDEADLK: "resource deadlock avoided",
	ENAMETOOLONG: "file name too long", ENOSYS: "function not implemented",
	ENOTEMPTY: "directory not empty", ELOOP: "too many levels of symbolic links",
	ENODATA: "no data available", EPROTO: "protocol error", EBADMSG: "bad message",
	EOVERFLOW: "value too large for defined data type", ENOTSUP: "operation not supported",
	EADDRINUSE: "address already in use", ENOTCONN: "transport endpoint is not connected",
	ECONNREFUSED: "connection refused", ETIMEDOUT: "connection timed out",
	EHOSTDOWN: "host is down", ECANCELED: "operation canceled",
}

func (e Errno) Error() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}

// Is makes errors.Is(err, fs.ErrNotExist) and errors.Is(err, syscall.ENOENT)
// work for an Errno, as they do for syscall.Errno.
func (e Errno) Is(target error) bool {
	if se, ok := target.(syscall.Errno); ok {
		return uintptr(se) == uintptr(e)
	}
	switch target {
	case fs.ErrPermission:
		return e == EACCES || e == EPERM
	case fs.ErrExist:
		return e == EEXIST || e == ENOTEMPTY
	case fs.ErrNotExist:
		return e == ENOENT
	case fs.ErrInvalid:
		return e == EINVAL
	case fs.ErrClosed:
		return e == EBADF
	case os.ErrDeadlineExceeded:
		return e == ETIMEDOUT
	case errors.ErrUnsupported:
		return e == ENOSYS || e == ENOTSUP
	}
	return false
}

// Syscall returns the same number as a syscall.Errno, the type go-fuse and
// the os package speak.
func (e Errno) Syscall() syscall.Errno { return syscall.Errno(e) }

// ToErrno maps any error to the errno a reply carries. Errors that already
// carry a number keep it; the transport's own failures get the nearest
// Linux meaning; anything else is EIO.
func ToErrno(err error) Errno {
	if err == nil {
		return 0
	}
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return Errno(se)
	}
	switch {
	case errors.Is(err, ErrNoServer):
		return EHOSTDOWN
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ETIMEDOUT
	case errors.Is(err, context.Canceled):
		return ECANCELED
	case errors.Is(err, fs.ErrNotExist):
		return ENOENT
	case errors.Is(err, fs.ErrExist):
		return EEXIST
	case errors.Is(err, fs.ErrPermission):
		return EACCES
	case errors.Is(err, fs.ErrInvalid):
		return EINVAL
	case errors.Is(err, fs.ErrClosed):
		return EBADF
	}
	return EIO
}
