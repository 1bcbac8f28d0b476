package fstest

import (
	"bytes"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func init() {
	cases["Fallocate"] = testFallocate
	cases["FallocateKeepSize"] = testFallocateKeepSize
	cases["FallocatePunchHole"] = testPunchHole
	cases["StBlocks"] = testStBlocks
}

func wantSize(t *testing.T, fsys FS, name string, want int64) {
	t.Helper()
	if fi, err := fsys.Stat(name); err != nil || fi.Size() != want {
		t.Errorf("%s: size %v %v, want %d", name, fi.Size(), err, want)
	}
}

func blocks(t *testing.T, fsys FS, name string) int64 {
	t.Helper()
	return sysStat(t, fsys, name, false).Blocks
}

// testFallocate: mode 0 extends the size and allocates: the blocks count
// the whole range, which reads as zeros after what was there.
func testFallocate(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("0123456789"))
	must(t, fsys.Fallocate("f", 0, 0, 1<<20))
	wantSize(t, fsys, "f", 1<<20)
	want := append([]byte("0123456789"), make([]byte, 1<<20-10)...)
	wantContent(t, fsys, "f", want)
	if b := blocks(t, fsys, "f"); b < 1<<20/512 {
		t.Errorf("blocks after allocating 1 MiB: %d, want at least %d", b, 1<<20/512)
	}
	// Inside the file: nothing changes but the allocation.
	must(t, fsys.Fallocate("f", 0, 100, 10))
	wantSize(t, fsys, "f", 1<<20)
	// Errors as Linux.
	wantErrno(t, "fallocate of length 0", fsys.Fallocate("f", 0, 0, 0), syscall.EINVAL)
	wantErrno(t, "fallocate at a negative offset", fsys.Fallocate("f", 0, -1, 10), syscall.EINVAL)
	wantErrno(t, "PUNCH_HOLE without KEEP_SIZE", fsys.Fallocate("f", unix.FALLOC_FL_PUNCH_HOLE, 0, 10), syscall.EOPNOTSUPP)
	wantContent(t, fsys, "f", want)
}

// testFallocateKeepSize: KEEP_SIZE allocates past the end without moving
// it; a later write there reads back, and a truncate frees the rest.
func testFallocateKeepSize(t *testing.T, fsys FS) {
	writeFile(t, fsys, "g", nil)
	must(t, fsys.Fallocate("g", unix.FALLOC_FL_KEEP_SIZE, 0, 256<<10))
	wantSize(t, fsys, "g", 0)
	if b := blocks(t, fsys, "g"); b < 256<<10/512 {
		t.Errorf("blocks after KEEP_SIZE of 256 KiB: %d", b)
	}
	f, err := fsys.OpenFile("g", os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte("abc"), 1000)
	must(t, err)
	must(t, f.Close())
	wantContent(t, fsys, "g", append(make([]byte, 1000), "abc"...))
	must(t, fsys.Truncate("g", 0))
	if b := blocks(t, fsys, "g"); b != 0 {
		t.Errorf("blocks after truncating to 0: %d", b)
	}
	wantContent(t, fsys, "g", nil)
}

// testPunchHole: PUNCH_HOLE|KEEP_SIZE zeroes the range, keeps the size,
// and frees what it covers whole.
func testPunchHole(t *testing.T, fsys FS) {
	data := bytes.Repeat([]byte("x"), 384<<10)
	writeFile(t, fsys, "p", data)
	before := blocks(t, fsys, "p")
	must(t, fsys.Fallocate("p", unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 64<<10, 256<<10))
	wantSize(t, fsys, "p", 384<<10)
	clear(data[64<<10 : 320<<10])
	wantContent(t, fsys, "p", data)
	if after := blocks(t, fsys, "p"); after >= before {
		t.Errorf("blocks after punching 256 KiB out of 384: %d, before %d", after, before)
	}
	// Past the end: nothing to zero, the size stays.
	must(t, fsys.Fallocate("p", unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 1<<20, 10))
	wantSize(t, fsys, "p", 384<<10)
}

// testStBlocks: st_blocks counts what is stored, in 512-byte units: an
// empty file nothing, a small one a 4 KiB block, a dense MiB 2048, a hole
// nothing (a byte 10 MiB out costs one block, not ten MiB).
func testStBlocks(t *testing.T, fsys FS) {
	writeFile(t, fsys, "empty", nil)
	writeFile(t, fsys, "small", []byte("hello"))
	writeFile(t, fsys, "mib", bytes.Repeat([]byte("m"), 1<<20))
	f, err := fsys.OpenFile("sparse", os.O_WRONLY|os.O_CREATE, 0o644)
	must(t, err)
	_, err = f.WriteAt([]byte("x"), 10<<20)
	must(t, err)
	must(t, f.Close())
	for name, want := range map[string]int64{"empty": 0, "small": 8, "mib": 2048, "sparse": 8} {
		if b := blocks(t, fsys, name); b != want {
			t.Errorf("%s: st_blocks %d, want %d", name, b, want)
		}
	}
	must(t, fsys.Truncate("mib", 4096))
	if b := blocks(t, fsys, "mib"); b != 8 {
		t.Errorf("after truncating 1 MiB to 4 KiB: st_blocks %d, want 8", b)
	}
}
