package libvos

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/vos-os/vos/ipc"
)

func TestModeConversion(t *testing.T) {
	for _, tc := range []struct {
		mode  fs.FileMode
		linux uint32
	}{
		{0o644, 0o100644},
		{0, 0o100000},
		{fs.ModeDir | 0o755, 0o040755},
		{fs.ModeSymlink | 0o777, 0o120777},
		{fs.ModeNamedPipe | 0o600, 0o010600},
		{fs.ModeSocket | 0o700, 0o140700},
		{fs.ModeDevice | fs.ModeCharDevice | 0o666, 0o020666},
		{fs.ModeDevice | 0o660, 0o060660},
		{fs.ModeSetuid | 0o755, 0o104755},
		{fs.ModeSetgid | 0o755, 0o102755},
		{fs.ModeDir | fs.ModeSticky | 0o777, 0o041777},
		{fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o777, 0o107777},
	} {
		if got := ModeToLinux(tc.mode); got != tc.linux {
			t.Errorf("ModeToLinux(%v) = %#o, want %#o", tc.mode, got, tc.linux)
		}
		if got := ModeFromLinux(tc.linux); got != tc.mode {
			t.Errorf("ModeFromLinux(%#o) = %v, want %v", tc.linux, got, tc.mode)
		}
	}
	// Go's own permission-like bits above 0777 are not Linux's.
	if got := permBits(0o1777); got != 0o777 {
		t.Errorf("permBits(0o1777) = %#o: only fs.ModeSticky means sticky", got)
	}
}

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
	}{
		{"", syscall.ENOENT},
		{"a\x00b", syscall.EINVAL},
		{strings.Repeat("a", ipc.PathMax-1), nil},
		{strings.Repeat("a", ipc.PathMax), syscall.ENAMETOOLONG},
		{"/", nil},
		{"../x", nil},
	} {
		err := checkPath(tc.name)
		if (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("checkPath(%.20q…): %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestBasename(t *testing.T) {
	for in, want := range map[string]string{"a/b": "b", "a/b/": "b", "/": "/", "b": "b", ".": ".", "/a//": "a"} {
		if got := basename(in); got != want {
			t.Errorf("basename(%q) = %q, want %q", in, got, want)
		}
	}
}
