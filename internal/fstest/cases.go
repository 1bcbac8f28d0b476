package fstest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cases maps a name to a case, as go-fuse's posixtest does.
var cases = map[string]func(t *testing.T, fsys FS){
	"CreateReadWrite":       testCreateReadWrite,
	"Append":                testAppend,
	"Seek":                  testSeek,
	"ReadWriteAccessMode":   testAccessMode,
	"TruncateDownUp":        testTruncate,
	"SparseWriteAt":         testSparse,
	"LargeFile":             testLargeFile,
	"MkdirReadDir":          testMkdirReadDir,
	"RmdirNotEmpty":         testRmdirNotEmpty,
	"Remove":                testRemove,
	"RenameFileOverFile":    testRenameFileOverFile,
	"RenameDirs":            testRenameDirs,
	"RenameErrors":          testRenameErrors,
	"RenameOntoSelf":        testRenameOntoSelf,
	"RenameCrossDirectory":  testRenameCrossDir,
	"UnlinkOpenFile":        testUnlinkOpen,
	"HardLinks":             testHardLinks,
	"Symlinks":              testSymlinks,
	"SymlinkLoop":           testSymlinkLoop,
	"Chmod":                 testChmod,
	"Chown":                 testChown,
	"ChownClearsSetuid":     testChownSetuid,
	"Chtimes":               testChtimes,
	"WriteUpdatesMtime":     testWriteMtime,
	"OpenExcl":              testOpenExcl,
	"OpenTrunc":             testOpenTrunc,
	"OpenDirectory":         testOpenDir,
	"NotADirectoryInPath":   testNotDir,
	"BadPaths":              testBadPaths,
	"DotDot":                testDotDot,
	"FileStatAndReadDirErr": testFileStat,
	"ManyEntries":           testManyEntries,
	"SetgidDirectory":       testSetgidDir,
	"DirectoryNlink":        testDirNlink,
	"HugeSparseOffset":      testHugeSparse,
	"TruncateHugeSparse":    testTruncateHugeSparse,
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErrno fails unless err matches one of the errnos.
func wantErrno(t *testing.T, what string, err error, want ...syscall.Errno) {
	t.Helper()
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	t.Errorf("%s: got error %v, want %v", what, err, want)
}

func writeFile(t *testing.T, fsys FS, name string, data []byte) {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	must(t, err)
	if n, err := f.Write(data); err != nil || n != len(data) {
		t.Fatalf("write %s: %d, %v", name, n, err)
	}
	must(t, f.Close())
}

func readFile(t *testing.T, fsys FS, name string) []byte {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	data, err := io.ReadAll(f)
	must(t, err)
	return data
}

func wantContent(t *testing.T, fsys FS, name string, want []byte) {
	t.Helper()
	if got := readFile(t, fsys, name); !bytes.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", name, trunc(got), trunc(want))
	}
}

func trunc(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "…"...)
	}
	return b
}

func sysStat(t *testing.T, fsys FS, name string, follow bool) Stat {
	t.Helper()
	var fi fs.FileInfo
	var err error
	if follow {
		fi, err = fsys.Stat(name)
	} else {
		fi, err = fsys.Lstat(name)
	}
	must(t, err)
	return SysStat(t, fi)
}

func testCreateReadWrite(t *testing.T, fsys FS) {
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
	must(t, err)
	if n, err := f.Write([]byte("hello, world")); n != 12 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if off, err := f.Seek(0, io.SeekCurrent); off != 12 || err != nil {
		t.Errorf("offset after write: %d, %v", off, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if n, err := f.Read(buf); n != 5 || err != nil || string(buf) != "hello" {
		t.Errorf("read: %d %q %v", n, buf, err)
	}
	rest, err := io.ReadAll(f)
	if err != nil || string(rest) != ", world" {
		t.Errorf("read rest: %q %v", rest, err)
	}
	if n, err := f.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("read at end: %d, %v; want 0, io.EOF", n, err)
	}
	if n, err := f.Read(nil); n != 0 || err != nil {
		t.Errorf("empty read: %d, %v", n, err)
	}
	fi, err := f.Stat()
	must(t, err)
	if fi.Name() != "f" || fi.Size() != 12 || fi.Mode() != 0o644 || fi.IsDir() {
		t.Errorf("stat: %v size %d mode %v", fi.Name(), fi.Size(), fi.Mode())
	}
	must(t, f.Close())
	wantClosed := func(what string, err error) {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s after close: %v, want fs.ErrClosed", what, err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			t.Errorf("%s after close: %T is not a *fs.PathError", what, err)
		}
	}
	wantClosed("close", f.Close())
	_, err = f.Read(buf)
	wantClosed("read", err)
	_, err = f.Write(buf)
	wantClosed("write", err)
	_, err = f.Stat()
	wantClosed("stat", err)
	wantContent(t, fsys, "f", []byte("hello, world"))
}

func testAppend(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("abc"))
	f, err := fsys.OpenFile("f", os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write([]byte("def"))
	must(t, err)
	// O_APPEND writes at the end whatever the offset.
	_, err = f.Seek(0, io.SeekStart)
	must(t, err)
	_, err = f.Write([]byte("ghi"))
	must(t, err)
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt on an O_APPEND file succeeded")
	}
	// A second writer appending in between lands in between.
	g, err := fsys.OpenFile("f", os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = g.Write([]byte("123"))
	must(t, err)
	must(t, g.Close())
	_, err = f.Write([]byte("jkl"))
	must(t, err)
	must(t, f.Close())
	wantContent(t, fsys, "f", []byte("abcdefghi123jkl"))
}

func testSeek(t *testing.T, fsys FS) {
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	defer f.Close()
	_, err = f.Write([]byte("0123456789"))
	must(t, err)
	if off, err := f.Seek(-3, io.SeekEnd); off != 7 || err != nil {
		t.Errorf("seek end-3: %d, %v", off, err)
	}
	b := make([]byte, 3)
	if _, err := io.ReadFull(f, b); err != nil || string(b) != "789" {
		t.Errorf("read after seek: %q %v", b, err)
	}
	if off, err := f.Seek(-8, io.SeekCurrent); off != 2 || err != nil {
		t.Errorf("seek cur-8: %d, %v", off, err)
	}
	if _, err := io.ReadFull(f, b); err != nil || string(b) != "234" {
		t.Errorf("read after seek cur: %q %v", b, err)
	}
	_, err = f.Seek(-1, io.SeekStart)
	wantErrno(t, "seek to -1", err, syscall.EINVAL)
	// Seek past the end, write: a hole of zeros.
	if off, err := f.Seek(20, io.SeekStart); off != 20 || err != nil {
		t.Errorf("seek past end: %d, %v", off, err)
	}
	if n, err := f.Read(b); n != 0 || err != io.EOF {
		t.Errorf("read past end: %d, %v", n, err)
	}
	_, err = f.Write([]byte("x"))
	must(t, err)
	want := append([]byte("0123456789"), make([]byte, 10)...)
	wantContent(t, fsys, "f", append(want, 'x'))
	// The end is the file's current size, whoever changed it.
	writeFile(t, fsys, "f", []byte("shorter"))
	if off, err := f.Seek(0, io.SeekEnd); off != 7 || err != nil {
		t.Errorf("seek end after another writer: %d, %v", off, err)
	}
}

func testAccessMode(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("data"))
	r, err := fsys.OpenFile("f", os.O_RDONLY, 0)
	must(t, err)
	defer r.Close()
	_, err = r.Write([]byte("x"))
	wantErrno(t, "write to a read-only file", err, syscall.EBADF)
	w, err := fsys.OpenFile("f", os.O_WRONLY, 0)
	must(t, err)
	defer w.Close()
	_, err = w.Read(make([]byte, 4))
	wantErrno(t, "read of a write-only file", err, syscall.EBADF)
	wantContent(t, fsys, "f", []byte("data"))
}

func testTruncate(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("hello world"))
	must(t, fsys.Truncate("f", 5))
	wantContent(t, fsys, "f", []byte("hello"))
	// Growing reads as zeros: the old bytes must not come back.
	must(t, fsys.Truncate("f", 10))
	wantContent(t, fsys, "f", []byte("hello\x00\x00\x00\x00\x00"))
	f, err := fsys.OpenFile("f", os.O_RDWR, 0)
	must(t, err)
	must(t, f.Truncate(2))
	must(t, f.Truncate(7))
	fi, err := f.Stat()
	must(t, err)
	if fi.Size() != 7 {
		t.Errorf("size after truncate: %d", fi.Size())
	}
	must(t, f.Close())
	wantContent(t, fsys, "f", []byte("he\x00\x00\x00\x00\x00"))
	// Across a chunk boundary of a bigger file.
	big := bytes.Repeat([]byte{0xAB}, 3<<20)
	writeFile(t, fsys, "g", big)
	must(t, fsys.Truncate("g", 1<<20+7))
	must(t, fsys.Truncate("g", 3<<20))
	want := slices.Concat(big[:1<<20+7], make([]byte, 2<<20-7))
	wantContent(t, fsys, "g", want)
	must(t, fsys.Truncate("g", 0))
	wantContent(t, fsys, "g", nil)
	wantErrno(t, "truncate to -1", fsys.Truncate("g", -1), syscall.EINVAL)
	wantErrno(t, "truncate missing", fsys.Truncate("missing", 0), syscall.ENOENT)
}

func testSparse(t *testing.T, fsys FS) {
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	defer f.Close()
	const off = 3<<20 + 5
	if n, err := f.WriteAt([]byte("tail"), off); n != 4 || err != nil {
		t.Fatalf("writeat: %d, %v", n, err)
	}
	if n, err := f.WriteAt([]byte("mid"), 1<<20); n != 3 || err != nil {
		t.Fatalf("writeat: %d, %v", n, err)
	}
	// WriteAt does not move the offset.
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
		t.Errorf("offset after WriteAt: %d", pos)
	}
	fi, err := f.Stat()
	must(t, err)
	if fi.Size() != off+4 {
		t.Errorf("size %d, want %d", fi.Size(), off+4)
	}
	got := make([]byte, off+4)
	if n, err := f.ReadAt(got, 0); n != len(got) || err != nil {
		t.Fatalf("readat: %d, %v", n, err)
	}
	want := make([]byte, off+4)
	copy(want[1<<20:], "mid")
	copy(want[off:], "tail")
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		t.Errorf("sparse file differs at byte %d", i)
	}
	// ReadAt past the end: short, io.EOF.
	b := make([]byte, 10)
	if n, err := f.ReadAt(b, off+2); n != 2 || err != io.EOF || string(b[:2]) != "il" {
		t.Errorf("readat across the end: %d %q %v", n, b[:n], err)
	}
}

func testLargeFile(t *testing.T, fsys FS) {
	// 5 MiB and a bit: not a multiple of any chunk size.
	data := make([]byte, 5<<20+123)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(data)
	f, err := fsys.OpenFile("big", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	must(t, err)
	if n, err := f.Write(data); n != len(data) || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	must(t, f.Sync())
	must(t, f.Close())
	check := func(how string, got []byte) {
		t.Helper()
		if len(got) != len(data) || sha256.Sum256(got) != sum {
			t.Errorf("%s: %d bytes, checksum differs", how, len(got))
		}
	}
	check("io.ReadAll", readFile(t, fsys, "big"))
	f, err = fsys.OpenFile("big", os.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	whole := make([]byte, len(data))
	n, err := f.ReadAt(whole, 0)
	if err != nil {
		t.Errorf("readat: %v", err)
	}
	check("one ReadAt", whole[:n])
	// Sequential 1 MiB reads, then 4 KiB reads: read-ahead must not
	// change what is read.
	for _, size := range []int{1 << 20, 4 << 10} {
		_, err = f.Seek(0, io.SeekStart)
		must(t, err)
		var got []byte
		buf := make([]byte, size)
		for {
			n, err := f.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			must(t, err)
		}
		check(fmt.Sprintf("reads of %d bytes", size), got)
	}
	// io.Copy to a hash: WriteTo where the target has one.
	_, err = f.Seek(0, io.SeekStart)
	must(t, err)
	h := sha256.New()
	if n, err := io.Copy(h, f); n != int64(len(data)) || err != nil || !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Errorf("io.Copy: %d, %v, checksum equal: %v", n, err, bytes.Equal(h.Sum(nil), sum[:]))
	}
	// Overwrite across chunk boundaries; a reader that read ahead earlier
	// must see the new bytes.
	_, err = f.Seek(0, io.SeekStart)
	must(t, err)
	_, err = f.Read(buf4k(t))
	must(t, err)
	_, err = f.Read(buf4k(t)) // now sequential: read-ahead may run
	must(t, err)
	w, err := fsys.OpenFile("big", os.O_WRONLY, 0)
	must(t, err)
	patch := bytes.Repeat([]byte("VOS!"), 1<<18) // 1 MiB
	_, err = w.WriteAt(patch, 1<<19)
	must(t, err)
	must(t, w.Close())
	copy(data[1<<19:], patch)
	rest, err := io.ReadAll(f)
	must(t, err)
	if !bytes.Equal(rest, data[8<<10:]) {
		t.Error("a sequential reader did not see a write made after it read ahead")
	}
}

func buf4k(*testing.T) []byte { return make([]byte, 4<<10) }

func names(ents []fs.DirEntry) []string {
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name()
	}
	return out
}

func testMkdirReadDir(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o777))
	fi, err := fsys.Stat("d")
	must(t, err)
	if !fi.IsDir() || fi.Mode() != fs.ModeDir|0o755 {
		t.Errorf("mkdir 0777 under umask 022: mode %v", fi.Mode())
	}
	wantErrno(t, "mkdir of an existing dir", fsys.Mkdir("d", 0o755), syscall.EEXIST)
	for _, n := range []string{"c", "a", "b"} {
		writeFile(t, fsys, "d/"+n, []byte(n+n))
	}
	must(t, fsys.Mkdir("d/z", 0o700))
	must(t, fsys.Symlink("a", "d/l"))
	ents, err := fsys.ReadDir("d")
	must(t, err)
	if got := names(ents); !slices.Equal(got, []string{"a", "b", "c", "l", "z"}) {
		t.Fatalf("readdir: %v", got)
	}
	types := map[string]fs.FileMode{"a": 0, "l": fs.ModeSymlink, "z": fs.ModeDir}
	for _, e := range ents {
		if want, ok := types[e.Name()]; ok && (e.Type() != want || e.IsDir() != (want == fs.ModeDir)) {
			t.Errorf("entry %s: type %v, want %v", e.Name(), e.Type(), want)
		}
		info, err := e.Info()
		must(t, err)
		if e.Name() == "b" && info.Size() != 2 {
			t.Errorf("entry b: size %d", info.Size())
		}
		if e.Name() == "l" && info.Mode().Type() != fs.ModeSymlink {
			t.Errorf("entry l: Info follows the symlink: %v", info.Mode())
		}
	}
	// Paging through an open directory.
	f, err := fsys.OpenFile("d", os.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	var all []string
	for {
		page, err := f.ReadDir(2)
		if err == io.EOF {
			if len(page) != 0 {
				t.Errorf("io.EOF with %d entries", len(page))
			}
			break
		}
		must(t, err)
		if len(page) == 0 || len(page) > 2 {
			t.Fatalf("ReadDir(2) returned %d entries", len(page))
		}
		all = append(all, names(page)...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"a", "b", "c", "l", "z"}) {
		t.Errorf("paged readdir: %v", all)
	}
	empty, err := fsys.ReadDir("d/z")
	if err != nil || len(empty) != 0 {
		t.Errorf("readdir of an empty dir: %v %v", names(empty), err)
	}
	_, err = fsys.ReadDir("d/a")
	wantErrno(t, "readdir of a file", err, syscall.ENOTDIR)
	_, err = fsys.ReadDir("missing")
	wantErrno(t, "readdir of a missing dir", err, syscall.ENOENT)
}

func testRmdirNotEmpty(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o755))
	writeFile(t, fsys, "d/f", nil)
	wantErrno(t, "remove of a non-empty dir", fsys.Remove("d"), syscall.ENOTEMPTY, syscall.EEXIST)
	must(t, fsys.Remove("d/f"))
	must(t, fsys.Remove("d"))
	_, err := fsys.Stat("d")
	wantErrno(t, "stat after rmdir", err, syscall.ENOENT)
}

func testRemove(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("x"))
	must(t, fsys.Remove("f"))
	_, err := fsys.Lstat("f")
	wantErrno(t, "lstat after remove", err, syscall.ENOENT)
	wantErrno(t, "remove missing", fsys.Remove("f"), syscall.ENOENT)
	// Removing a symlink removes the link, not its target.
	writeFile(t, fsys, "t", []byte("x"))
	must(t, fsys.Symlink("t", "l"))
	must(t, fsys.Remove("l"))
	wantContent(t, fsys, "t", []byte("x"))
	var pe *fs.PathError
	if err := fsys.Remove("f"); !errors.As(err, &pe) || pe.Op != "remove" {
		t.Errorf("remove error %#v, want *fs.PathError with Op remove", err)
	}
}

func testRenameFileOverFile(t *testing.T, fsys FS) {
	writeFile(t, fsys, "a", []byte("A"))
	writeFile(t, fsys, "b", []byte("B"))
	ino := sysStat(t, fsys, "a", false).Ino
	must(t, fsys.Rename("a", "b"))
	wantContent(t, fsys, "b", []byte("A"))
	if got := sysStat(t, fsys, "b", false).Ino; got != ino {
		t.Errorf("renamed file has inode %d, was %d", got, ino)
	}
	_, err := fsys.Stat("a")
	wantErrno(t, "stat of the old name", err, syscall.ENOENT)
	err = fsys.Rename("missing", "c")
	wantErrno(t, "rename of a missing file", err, syscall.ENOENT)
	var le *os.LinkError
	if !errors.As(err, &le) || le.Op != "rename" {
		t.Errorf("rename error %#v, want *os.LinkError", err)
	}
}

func testRenameDirs(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o755))
	writeFile(t, fsys, "d/f", []byte("f"))
	must(t, fsys.Mkdir("empty", 0o755))
	// A directory replaces an empty directory.
	must(t, fsys.Rename("d", "empty"))
	wantContent(t, fsys, "empty/f", []byte("f"))
	_, err := fsys.Stat("d")
	wantErrno(t, "stat of the old name", err, syscall.ENOENT)
	// ... but not a non-empty one.
	must(t, fsys.Mkdir("e", 0o755))
	wantErrno(t, "dir over a non-empty dir", fsys.Rename("e", "empty"), syscall.ENOTEMPTY, syscall.EEXIST)
	// Not into itself.
	must(t, fsys.Mkdir("empty/sub", 0o755))
	wantErrno(t, "dir into its own subdir", fsys.Rename("empty", "empty/sub/x"), syscall.EINVAL)
	wantErrno(t, "dir into itself", fsys.Rename("empty", "empty/x"), syscall.EINVAL)
	wantErrno(t, "dir over its own parent", fsys.Rename("empty/sub", "empty"), syscall.ENOTEMPTY, syscall.EEXIST)
	// Renaming a directory moves its subtree.
	must(t, fsys.Rename("empty", "moved"))
	wantContent(t, fsys, "moved/f", []byte("f"))
	if fi, err := fsys.Stat("moved/sub"); err != nil || !fi.IsDir() {
		t.Errorf("moved/sub: %v", err)
	}
}

func testRenameErrors(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("f"))
	must(t, fsys.Mkdir("d", 0o755))
	wantErrno(t, "file over dir", fsys.Rename("f", "d"), syscall.EISDIR)
	wantErrno(t, "dir over file", fsys.Rename("d", "f"), syscall.ENOTDIR)
	wantErrno(t, "into a missing dir", fsys.Rename("f", "missing/f"), syscall.ENOENT)
	wantErrno(t, "through a file", fsys.Rename("f", "f/x"), syscall.ENOTDIR)
	// Nothing moved.
	wantContent(t, fsys, "f", []byte("f"))
	if fi, err := fsys.Stat("d"); err != nil || !fi.IsDir() {
		t.Errorf("d: %v", err)
	}
}

func testRenameOntoSelf(t *testing.T, fsys FS) {
	writeFile(t, fsys, "a", []byte("A"))
	must(t, fsys.Rename("a", "a"))
	wantContent(t, fsys, "a", []byte("A"))
	// Onto another hard link of the same file: rename(2) does nothing.
	must(t, fsys.Link("a", "b"))
	must(t, fsys.Rename("a", "b"))
	wantContent(t, fsys, "a", []byte("A"))
	wantContent(t, fsys, "b", []byte("A"))
	if n := sysStat(t, fsys, "b", false).Nlink; n != 2 {
		t.Errorf("nlink after rename onto a hard link: %d, want 2", n)
	}
	must(t, fsys.Mkdir("d", 0o755))
	must(t, fsys.Rename("d", "d"))
	if fi, err := fsys.Stat("d"); err != nil || !fi.IsDir() {
		t.Errorf("d after renaming onto itself: %v", err)
	}
}

func testRenameCrossDir(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d1", 0o755))
	must(t, fsys.Mkdir("d2", 0o755))
	writeFile(t, fsys, "d1/f", []byte("data"))
	must(t, fsys.Rename("d1/f", "d2/g"))
	if ents, err := fsys.ReadDir("d1"); err != nil || len(ents) != 0 {
		t.Errorf("d1 after move: %v %v", names(ents), err)
	}
	if ents, err := fsys.ReadDir("d2"); err != nil || !slices.Equal(names(ents), []string{"g"}) {
		t.Errorf("d2 after move: %v %v", names(ents), err)
	}
	wantContent(t, fsys, "d2/g", []byte("data"))
	// A directory moves with its contents; its ".." follows it.
	must(t, fsys.Mkdir("d1/sub", 0o755))
	must(t, fsys.Rename("d1/sub", "d2/sub"))
	must(t, fsys.Rename("d2/g", "d2/sub/../sub/h"))
	wantContent(t, fsys, "d2/sub/h", []byte("data"))
	if a, b := sysStat(t, fsys, "d2/sub/..", true).Ino, sysStat(t, fsys, "d2", true).Ino; a != b {
		t.Errorf("d2/sub/.. is inode %d, d2 is %d", a, b)
	}
}

func testUnlinkOpen(t *testing.T, fsys FS) {
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	defer f.Close()
	_, err = f.Write([]byte("data"))
	must(t, err)
	must(t, fsys.Remove("f"))
	_, err = fsys.Stat("f")
	wantErrno(t, "stat after unlink", err, syscall.ENOENT)
	// Still readable and writable through the open file.
	_, err = f.Write([]byte("more"))
	must(t, err)
	got := make([]byte, 8)
	if n, err := f.ReadAt(got, 0); n != 8 || err != nil || string(got) != "datamore" {
		t.Errorf("read of an unlinked open file: %q %v", got[:n], err)
	}
	fi, err := f.Stat()
	must(t, err)
	if fi.Size() != 8 {
		t.Errorf("size of the unlinked file: %d", fi.Size())
	}
	if n := SysStat(t, fi).Nlink; n != 0 {
		t.Errorf("nlink of the unlinked file: %d", n)
	}
	// A new file of the same name is another file.
	writeFile(t, fsys, "f", []byte("new"))
	if n, err := f.ReadAt(got, 0); n != 8 || err != nil || string(got) != "datamore" {
		t.Errorf("open file after the name was reused: %q %v", got[:n], err)
	}
	wantContent(t, fsys, "f", []byte("new"))
}

func testHardLinks(t *testing.T, fsys FS) {
	writeFile(t, fsys, "a", []byte("one"))
	must(t, fsys.Link("a", "b"))
	sa, sb := sysStat(t, fsys, "a", false), sysStat(t, fsys, "b", false)
	if sa.Ino != sb.Ino || sa.Nlink != 2 || sb.Nlink != 2 {
		t.Errorf("after link: a ino %d nlink %d, b ino %d nlink %d", sa.Ino, sa.Nlink, sb.Ino, sb.Nlink)
	}
	f, err := fsys.OpenFile("b", os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write([]byte("two"))
	must(t, err)
	must(t, f.Close())
	wantContent(t, fsys, "a", []byte("onetwo"))
	must(t, fsys.Remove("a"))
	if n := sysStat(t, fsys, "b", false).Nlink; n != 1 {
		t.Errorf("nlink after removing one link: %d", n)
	}
	wantContent(t, fsys, "b", []byte("onetwo"))
	must(t, fsys.Mkdir("d", 0o755))
	wantErrno(t, "link to a directory", fsys.Link("d", "dl"), syscall.EPERM)
	writeFile(t, fsys, "c", nil)
	wantErrno(t, "link over an existing name", fsys.Link("b", "c"), syscall.EEXIST)
	wantErrno(t, "link of a missing file", fsys.Link("missing", "x"), syscall.ENOENT)
	err = fsys.Link("missing", "x")
	var le *os.LinkError
	if !errors.As(err, &le) || le.Op != "link" {
		t.Errorf("link error %#v, want *os.LinkError", err)
	}
}

func testSymlinks(t *testing.T, fsys FS) {
	must(t, fsys.Symlink("target", "l"))
	if got, err := fsys.Readlink("l"); got != "target" || err != nil {
		t.Errorf("readlink: %q %v", got, err)
	}
	fi, err := fsys.Lstat("l")
	must(t, err)
	if fi.Mode().Type() != fs.ModeSymlink || fi.Size() != int64(len("target")) {
		t.Errorf("lstat: mode %v size %d", fi.Mode(), fi.Size())
	}
	// Dangling: stat follows and fails, open fails.
	_, err = fsys.Stat("l")
	wantErrno(t, "stat of a dangling link", err, syscall.ENOENT)
	_, err = fsys.OpenFile("l", os.O_RDONLY, 0)
	wantErrno(t, "open of a dangling link", err, syscall.ENOENT)
	// Creating through a dangling link creates its target.
	f, err := fsys.OpenFile("l", os.O_WRONLY|os.O_CREATE, 0o644)
	must(t, err)
	_, err = f.Write([]byte("via link"))
	must(t, err)
	must(t, f.Close())
	wantContent(t, fsys, "target", []byte("via link"))
	fi, err = fsys.Stat("l")
	must(t, err)
	if !fi.Mode().IsRegular() || fi.Size() != 8 {
		t.Errorf("stat through the link: %v %d", fi.Mode(), fi.Size())
	}
	// Relative targets resolve from the link's directory.
	must(t, fsys.Mkdir("d", 0o755))
	must(t, fsys.Symlink("../target", "d/up"))
	wantContent(t, fsys, "d/up", []byte("via link"))
	// A link to a directory is walked through in the middle of a path.
	must(t, fsys.Symlink("d", "dl"))
	wantContent(t, fsys, "dl/up", []byte("via link"))
	ents, err := fsys.ReadDir("dl")
	if err != nil || !slices.Equal(names(ents), []string{"up"}) {
		t.Errorf("readdir through a link: %v %v", names(ents), err)
	}
	// Errors.
	wantErrno(t, "symlink over an existing name", fsys.Symlink("x", "l"), syscall.EEXIST)
	wantErrno(t, "symlink with a 4096-byte target", fsys.Symlink(strings.Repeat("t", 4096), "long"), syscall.ENAMETOOLONG)
	_, err = fsys.Readlink("target")
	wantErrno(t, "readlink of a file", err, syscall.EINVAL)
	_, err = fsys.Readlink("missing")
	wantErrno(t, "readlink of a missing name", err, syscall.ENOENT)
	_, err = fsys.OpenFile("l", os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	wantErrno(t, "O_NOFOLLOW open of a link", err, syscall.ELOOP)
	// Lchown changes the link, Chown its target.
	must(t, fsys.Lchown("l", 1000, 1000))
	if s := sysStat(t, fsys, "l", false); s.UID != 1000 {
		t.Errorf("lchown: link uid %d", s.UID)
	}
	if s := sysStat(t, fsys, "target", false); s.UID != 0 {
		t.Errorf("lchown changed the target: uid %d", s.UID)
	}
	must(t, fsys.Chown("l", 2000, 2000))
	if s := sysStat(t, fsys, "target", false); s.UID != 2000 {
		t.Errorf("chown through a link: target uid %d", s.UID)
	}
	// Removing the target leaves the link dangling.
	must(t, fsys.Remove("target"))
	_, err = fsys.Stat("d/up")
	wantErrno(t, "stat of a link whose target was removed", err, syscall.ENOENT)
	if _, err := fsys.Lstat("d/up"); err != nil {
		t.Errorf("lstat of a dangling link: %v", err)
	}
}

func testSymlinkLoop(t *testing.T, fsys FS) {
	must(t, fsys.Symlink("b", "a"))
	must(t, fsys.Symlink("a", "b"))
	must(t, fsys.Symlink("self", "self"))
	for _, name := range []string{"a", "self", "a/x"} {
		_, err := fsys.Stat(name)
		wantErrno(t, "stat "+name, err, syscall.ELOOP)
	}
	_, err := fsys.OpenFile("a", os.O_RDONLY, 0)
	wantErrno(t, "open of a loop", err, syscall.ELOOP)
	_, err = fsys.OpenFile("a", os.O_WRONLY|os.O_CREATE, 0o644)
	wantErrno(t, "create through a loop", err, syscall.ELOOP)
	if _, err := fsys.Lstat("a"); err != nil {
		t.Errorf("lstat of a loop link: %v", err)
	}
	// A long chain that is not a loop still resolves (Linux follows 40).
	writeFile(t, fsys, "end", []byte("end"))
	prev := "end"
	for i := range 30 {
		name := "c" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		must(t, fsys.Symlink(prev, name))
		prev = name
	}
	wantContent(t, fsys, prev, []byte("end"))
}

func testChmod(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", nil)
	must(t, fsys.Mkdir("d", 0o755))
	for _, m := range []fs.FileMode{0o751, 0o600, 0, 0o777 | fs.ModeSetuid | fs.ModeSetgid, 0o755 | fs.ModeSticky} {
		must(t, fsys.Chmod("f", m))
		fi, err := fsys.Stat("f")
		must(t, err)
		if fi.Mode() != m {
			t.Errorf("chmod %v: mode %v", m, fi.Mode())
		}
	}
	must(t, fsys.Chmod("d", fs.ModeSticky|0o777))
	if fi, err := fsys.Stat("d"); err != nil || fi.Mode() != fs.ModeDir|fs.ModeSticky|0o777 {
		t.Errorf("chmod of a dir: %v %v", fi.Mode(), err)
	}
	// Chmod follows symlinks.
	must(t, fsys.Symlink("f", "l"))
	must(t, fsys.Chmod("l", 0o640))
	if fi, err := fsys.Stat("f"); err != nil || fi.Mode() != 0o640 {
		t.Errorf("chmod through a link: %v %v", fi.Mode(), err)
	}
	wantErrno(t, "chmod of a missing file", fsys.Chmod("missing", 0o644), syscall.ENOENT)
}

func testChown(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", nil)
	must(t, fsys.Chown("f", 1000, 1001))
	if s := sysStat(t, fsys, "f", true); s.UID != 1000 || s.GID != 1001 {
		t.Errorf("chown 1000:1001: %d:%d", s.UID, s.GID)
	}
	must(t, fsys.Chown("f", -1, 2000))
	if s := sysStat(t, fsys, "f", true); s.UID != 1000 || s.GID != 2000 {
		t.Errorf("chown -1:2000: %d:%d", s.UID, s.GID)
	}
	wantErrno(t, "chown of a missing file", fsys.Chown("missing", 0, 0), syscall.ENOENT)
}

// testChownSetuid: a chown of a regular file clears set-user-ID, and
// set-group-ID when group execute is set (without it the bit marks
// mandatory locking and stays), even when root does it (Linux since
// 2.2.13; chown_common asks notify_change to kill both for non-dirs).
func testChownSetuid(t *testing.T, fsys FS) {
	for _, tc := range []struct {
		mode, want fs.FileMode
	}{
		{0o755 | fs.ModeSetuid | fs.ModeSetgid, 0o755},
		{0o644 | fs.ModeSetuid, 0o644},
		{0o644 | fs.ModeSetgid, 0o644 | fs.ModeSetgid},
	} {
		writeFile(t, fsys, "f", nil)
		must(t, fsys.Chmod("f", tc.mode))
		must(t, fsys.Chown("f", 0, 0))
		if fi, err := fsys.Stat("f"); err != nil || fi.Mode() != tc.want {
			t.Errorf("root's chown of a %v file: mode %v %v, want %v", tc.mode, fi.Mode(), err, tc.want)
		}
	}
	// A directory keeps its bits.
	must(t, fsys.Mkdir("d", 0o755))
	must(t, fsys.Chmod("d", fs.ModeDir|fs.ModeSetgid|0o775))
	must(t, fsys.Chown("d", 1000, 1000))
	if fi, err := fsys.Stat("d"); err != nil || fi.Mode() != fs.ModeDir|fs.ModeSetgid|0o775 {
		t.Errorf("chown of a setgid dir: %v %v", fi.Mode(), err)
	}
}

func testChtimes(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("x"))
	atime := time.Date(2001, 2, 3, 4, 5, 6, 123456789, time.UTC)
	mtime := time.Date(2002, 3, 4, 5, 6, 7, 987654321, time.UTC)
	must(t, fsys.Chtimes("f", atime, mtime))
	fi, err := fsys.Stat("f")
	must(t, err)
	s := SysStat(t, fi)
	if !fi.ModTime().Equal(mtime) || !s.Mtime.Equal(mtime) || !s.Atime.Equal(atime) {
		t.Errorf("chtimes: mtime %v atime %v, want %v %v", fi.ModTime(), s.Atime, mtime, atime)
	}
	// A zero time leaves that time alone.
	mtime2 := mtime.Add(time.Hour)
	must(t, fsys.Chtimes("f", time.Time{}, mtime2))
	if s := sysStat(t, fsys, "f", true); !s.Atime.Equal(atime) || !s.Mtime.Equal(mtime2) {
		t.Errorf("chtimes with zero atime: atime %v mtime %v", s.Atime, s.Mtime)
	}
	wantErrno(t, "chtimes of a missing file", fsys.Chtimes("missing", atime, mtime), syscall.ENOENT)
}

func testWriteMtime(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("x"))
	must(t, fsys.Mkdir("d", 0o755))
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	must(t, fsys.Chtimes("f", past, past))
	must(t, fsys.Chtimes("d", past, past))
	f, err := fsys.OpenFile("f", os.O_WRONLY, 0)
	must(t, err)
	_, err = f.Write([]byte("y"))
	must(t, err)
	must(t, f.Close())
	if fi, err := fsys.Stat("f"); err != nil || !fi.ModTime().After(past) {
		t.Errorf("mtime after a write: %v (set to %v) %v", fi.ModTime(), past, err)
	}
	// A new entry changes its directory's mtime.
	writeFile(t, fsys, "d/new", nil)
	if fi, err := fsys.Stat("d"); err != nil || !fi.ModTime().After(past) {
		t.Errorf("dir mtime after a create: %v (set to %v) %v", fi.ModTime(), past, err)
	}
	must(t, fsys.Chtimes("f", past, past))
	must(t, fsys.Truncate("f", 0))
	if fi, err := fsys.Stat("f"); err != nil || !fi.ModTime().After(past) {
		t.Errorf("mtime after a truncate: %v %v", fi.ModTime(), err)
	}
}

func testOpenExcl(t *testing.T, fsys FS) {
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	must(t, err)
	must(t, f.Close())
	if fi, err := fsys.Stat("f"); err != nil || fi.Mode() != 0o600 {
		t.Errorf("created 0600: %v %v", fi.Mode(), err)
	}
	_, err = fsys.OpenFile("f", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	wantErrno(t, "O_EXCL of an existing file", err, syscall.EEXIST)
	// O_EXCL does not follow a final symlink, even a dangling one.
	must(t, fsys.Symlink("nowhere", "l"))
	_, err = fsys.OpenFile("l", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	wantErrno(t, "O_EXCL of a dangling symlink", err, syscall.EEXIST)
	if _, err := fsys.Lstat("nowhere"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("O_EXCL created the symlink's target: %v", err)
	}
	// Without O_EXCL an existing file is opened, not recreated.
	writeFile(t, fsys, "g", []byte("keep"))
	f, err = fsys.OpenFile("g", os.O_RDWR|os.O_CREATE, 0o600)
	must(t, err)
	must(t, f.Close())
	wantContent(t, fsys, "g", []byte("keep"))
	if fi, _ := fsys.Stat("g"); fi.Mode() != 0o644 {
		t.Errorf("O_CREAT changed an existing file's mode to %v", fi.Mode())
	}
}

func testOpenTrunc(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("hello"))
	f, err := fsys.OpenFile("f", os.O_WRONLY|os.O_TRUNC, 0)
	must(t, err)
	fi, err := f.Stat()
	must(t, err)
	if fi.Size() != 0 {
		t.Errorf("size after O_TRUNC: %d", fi.Size())
	}
	_, err = f.Write([]byte("hi"))
	must(t, err)
	must(t, f.Close())
	wantContent(t, fsys, "f", []byte("hi"))
}

func testOpenDir(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o755))
	for _, flag := range []int{os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_CREATE} {
		_, err := fsys.OpenFile("d", flag, 0o644)
		wantErrno(t, "open of a dir for writing", err, syscall.EISDIR)
	}
	f, err := fsys.OpenFile("d", os.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	fi, err := f.Stat()
	must(t, err)
	if !fi.IsDir() {
		t.Errorf("stat of an open dir: %v", fi.Mode())
	}
	_, err = f.Read(make([]byte, 10))
	wantErrno(t, "read of a dir", err, syscall.EISDIR)
	writeFile(t, fsys, "file", nil)
	_, err = fsys.OpenFile("file", os.O_RDONLY|syscall.O_DIRECTORY, 0)
	wantErrno(t, "O_DIRECTORY open of a file", err, syscall.ENOTDIR)
	g, err := fsys.OpenFile("d", os.O_RDONLY|syscall.O_DIRECTORY, 0)
	must(t, err)
	must(t, g.Close())
}

func testNotDir(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("x"))
	_, err := fsys.Stat("f/x")
	wantErrno(t, "stat f/x", err, syscall.ENOTDIR)
	_, err = fsys.Stat("f/")
	wantErrno(t, "stat f/", err, syscall.ENOTDIR)
	_, err = fsys.OpenFile("f/x", os.O_RDWR|os.O_CREATE, 0o644)
	wantErrno(t, "create f/x", err, syscall.ENOTDIR)
	wantErrno(t, "mkdir f/d", fsys.Mkdir("f/d", 0o755), syscall.ENOTDIR)
	wantErrno(t, "symlink f/l", fsys.Symlink("x", "f/l"), syscall.ENOTDIR)
	wantErrno(t, "remove f/x", fsys.Remove("f/x"), syscall.ENOTDIR)
	must(t, fsys.Mkdir("d", 0o755))
	if fi, err := fsys.Stat("d/"); err != nil || !fi.IsDir() {
		t.Errorf("stat d/: %v", err)
	}
}

func testBadPaths(t *testing.T, fsys FS) {
	_, err := fsys.Stat("")
	wantErrno(t, `stat ""`, err, syscall.ENOENT)
	_, err = fsys.OpenFile("", os.O_RDWR|os.O_CREATE, 0o644)
	wantErrno(t, `create ""`, err, syscall.ENOENT)
	wantErrno(t, `mkdir ""`, fsys.Mkdir("", 0o755), syscall.ENOENT)
	_, err = fsys.Stat("a\x00b")
	wantErrno(t, "stat with a NUL", err, syscall.EINVAL)
	_, err = fsys.OpenFile("a\x00b", os.O_RDWR|os.O_CREATE, 0o644)
	wantErrno(t, "create with a NUL", err, syscall.EINVAL)
	long := strings.Repeat("d/", 2600) + "f" // 5201 bytes of short names
	_, err = fsys.Stat(long)
	wantErrno(t, "stat of a path over 4096 bytes", err, syscall.ENAMETOOLONG)
	name256 := strings.Repeat("n", 256)
	_, err = fsys.Stat(name256)
	wantErrno(t, "stat of a 256-byte name", err, syscall.ENAMETOOLONG)
	_, err = fsys.OpenFile(name256, os.O_RDWR|os.O_CREATE, 0o644)
	wantErrno(t, "create of a 256-byte name", err, syscall.ENAMETOOLONG)
	wantErrno(t, "mkdir of a 256-byte name", fsys.Mkdir(name256, 0o755), syscall.ENAMETOOLONG)
	name255 := strings.Repeat("n", 255)
	writeFile(t, fsys, name255, []byte("ok"))
	wantContent(t, fsys, name255, []byte("ok"))
	ents, err := fsys.ReadDir(".")
	must(t, err)
	if !slices.Equal(names(ents), []string{name255}) {
		t.Errorf("readdir: %d entries", len(ents))
	}
}

func testDotDot(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("a", 0o755))
	must(t, fsys.Mkdir("a/b", 0o755))
	writeFile(t, fsys, "a/f", []byte("f"))
	root := sysStat(t, fsys, ".", true).Ino
	for _, p := range []string{"a/b/../..", "a/../a/b/../..", "./a/./b/../../", "a/b/../../."} {
		if ino := sysStat(t, fsys, p, true).Ino; ino != root {
			t.Errorf("%s is inode %d, . is %d", p, ino, root)
		}
	}
	wantContent(t, fsys, "a/b/../f", []byte("f"))
	wantContent(t, fsys, "a//b/..//f", []byte("f"))
	// ".." resolves physically: through a symlink it is the target's parent.
	must(t, fsys.Symlink("a/b", "lb"))
	wantContent(t, fsys, "lb/../f", []byte("f"))
	wantErrno(t, "mkdir .", fsys.Mkdir(".", 0o755), syscall.EEXIST)
	wantErrno(t, "remove a/.", fsys.Remove("a/."), syscall.EINVAL)
	wantErrno(t, "rmdir of a/b/..", fsys.Remove("a/b/.."), syscall.ENOTEMPTY, syscall.EEXIST, syscall.EBUSY)
}

func testFileStat(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o755))
	writeFile(t, fsys, "d/f", []byte("abc"))
	f, err := fsys.OpenFile("d/f", os.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	if f.Name() == "" || !strings.HasSuffix(f.Name(), "d/f") {
		t.Errorf("Name: %q", f.Name())
	}
	fi, err := f.Stat()
	must(t, err)
	if fi.Name() != "f" || fi.Size() != 3 || !fi.Mode().IsRegular() {
		t.Errorf("file stat: %q %d %v", fi.Name(), fi.Size(), fi.Mode())
	}
	_, err = f.ReadDir(-1)
	wantErrno(t, "ReadDir of a file", err, syscall.ENOTDIR)
	// Stat of an open file sees a change made through another name.
	writeFile(t, fsys, "d/f", []byte("abcdef"))
	if fi, err := f.Stat(); err != nil || fi.Size() != 6 {
		t.Errorf("stat after another write: %d %v", fi.Size(), err)
	}
}

func testManyEntries(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o755))
	const n = 1500
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("entry-with-a-longish-name-%05d", i)
		f, err := fsys.OpenFile("d/"+want[i], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		must(t, err)
		must(t, f.Close())
	}
	ents, err := fsys.ReadDir("d")
	must(t, err)
	if got := names(ents); !slices.Equal(got, want) {
		t.Errorf("readdir of %d entries: got %d", n, len(got))
	}
	f, err := fsys.OpenFile("d", os.O_RDONLY, 0)
	must(t, err)
	defer f.Close()
	seen := map[string]bool{}
	for {
		page, err := f.ReadDir(97)
		for _, e := range page {
			if seen[e.Name()] {
				t.Fatalf("%s listed twice", e.Name())
			}
			seen[e.Name()] = true
		}
		if err == io.EOF {
			break
		}
		must(t, err)
	}
	if len(seen) != n {
		t.Errorf("paged readdir saw %d of %d entries", len(seen), n)
	}
}

func testSetgidDir(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o755))
	must(t, fsys.Chown("d", 0, 1234))
	must(t, fsys.Chmod("d", fs.ModeSetgid|0o775))
	writeFile(t, fsys, "d/f", nil)
	must(t, fsys.Mkdir("d/s", 0o755))
	if s := sysStat(t, fsys, "d/f", false); s.GID != 1234 {
		t.Errorf("file in a setgid dir has gid %d, want the dir's 1234", s.GID)
	}
	fi, err := fsys.Stat("d/s")
	must(t, err)
	if s := SysStat(t, fi); s.GID != 1234 || fi.Mode()&fs.ModeSetgid == 0 {
		t.Errorf("subdir of a setgid dir: gid %d mode %v, want gid 1234 and setgid", s.GID, fi.Mode())
	}
	must(t, fsys.Mkdir("sticky", fs.ModeSticky|0o777))
	if fi, err := fsys.Stat("sticky"); err != nil || fi.Mode() != fs.ModeDir|fs.ModeSticky|0o755 {
		t.Errorf("mkdir with the sticky bit: %v %v", fi.Mode(), err)
	}
}

func testDirNlink(t *testing.T, fsys FS) {
	must(t, fsys.Mkdir("d", 0o755))
	if n := sysStat(t, fsys, "d", false).Nlink; n != 2 {
		t.Errorf("new dir nlink %d, want 2", n)
	}
	must(t, fsys.Mkdir("d/s1", 0o755))
	must(t, fsys.Mkdir("d/s2", 0o755))
	writeFile(t, fsys, "d/f", nil)
	if n := sysStat(t, fsys, "d", false).Nlink; n != 4 {
		t.Errorf("dir with 2 subdirs and a file: nlink %d, want 4", n)
	}
	must(t, fsys.Rename("d/s2", "s2"))
	if n := sysStat(t, fsys, "d", false).Nlink; n != 3 {
		t.Errorf("after moving a subdir out: nlink %d, want 3", n)
	}
	must(t, fsys.Remove("d/s1"))
	if n := sysStat(t, fsys, "d", false).Nlink; n != 2 {
		t.Errorf("after rmdir of a subdir: nlink %d, want 2", n)
	}
}

func testHugeSparse(t *testing.T, fsys FS) {
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	defer f.Close()
	const off = 1 << 32 // 4 GiB: must not be stored or read as data
	if _, err := f.WriteAt([]byte("end"), off); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 64<<10)
	if n, err := f.ReadAt(got, off-int64(len(got))+3); n != len(got) || err != nil {
		t.Fatalf("read before the end: %d %v", n, err)
	}
	if !bytes.Equal(got[:len(got)-3], make([]byte, len(got)-3)) || string(got[len(got)-3:]) != "end" {
		t.Error("the hole before the end does not read as zeros")
	}
}

func testTruncateHugeSparse(t *testing.T, fsys FS) {
	f, err := fsys.OpenFile("f", os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	defer f.Close()
	if _, err := f.WriteAt([]byte("end"), 1<<32); err != nil {
		t.Fatal(err)
	}
	// Cutting 4 GiB of hole must cost what is stored, not the size.
	t0 := time.Now()
	must(t, f.Truncate(10))
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("truncating a 4 GiB sparse file took %v", d)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 10 {
		t.Errorf("size after truncate: %v", err)
	}
	must(t, f.Truncate(1<<32+3))
	got := make([]byte, 3)
	if _, err := f.ReadAt(got, 1<<32); err != nil || !bytes.Equal(got, make([]byte, 3)) {
		t.Errorf("the cut bytes came back after growing again: %q %v", got, err)
	}
}
