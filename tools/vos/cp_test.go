package main_test

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCp copies a tree into an instance and back out with vos cp, and
// compares the result with the original: types, bits, times, contents,
// symlink targets. Then single files both ways, and the errors.
func TestCp(t *testing.T) {
	e := newEnv(t)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte(manifestText), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustVos("up", mf)

	src := filepath.Join(t.TempDir(), "tree")
	big := make([]byte, 2<<20+3) // more than one MaxIO message
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	files := []struct {
		name string
		mode fs.FileMode
		data []byte
	}{
		{"a.txt", 0o640, []byte("alpha\n")},
		{"run.sh", 0o755 | fs.ModeSetuid, []byte("#!/bin/sh\necho hi\n")},
		{"sub/big.bin", 0o600, big},
		{"sub/empty.txt", 0o644, nil},
	}
	dirs := map[string]fs.FileMode{"": 0o755, "sub": 0o750, "sub/emptydir": 0o700}
	links := map[string]string{"link": "sub/big.bin", "sub/dangling": "../nowhere"}
	for _, d := range []string{"", "sub", "sub/emptydir"} {
		mustDo(t, os.Mkdir(filepath.Join(src, d), 0o755))
	}
	for _, f := range files {
		p := filepath.Join(src, f.name)
		mustDo(t, os.WriteFile(p, f.data, 0o600))
		mustDo(t, os.Chmod(p, f.mode))
	}
	for name, target := range links {
		mustDo(t, os.Symlink(target, filepath.Join(src, name)))
	}
	// Distinct times, directories last (their contents change them).
	times := map[string]time.Time{}
	stamp := time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC)
	for i, f := range files {
		times[f.name] = stamp.Add(time.Duration(i)*time.Hour + time.Duration(i)*time.Nanosecond)
	}
	for _, d := range []string{"sub/emptydir", "sub", ""} {
		mustDo(t, os.Chmod(filepath.Join(src, d), dirs[d]))
		times[d] = stamp.Add(-time.Duration(len(d)+1) * time.Minute)
	}
	for name, tm := range times {
		mustDo(t, os.Chtimes(filepath.Join(src, name), tm.Add(time.Second), tm))
	}

	// In and out again.
	e.mustVos("cp", "-r", src, "web:/data")
	out := filepath.Join(t.TempDir(), "out")
	e.mustVos("cp", "-r", "web:/data", out)
	for _, f := range files {
		p := filepath.Join(out, f.name)
		checkEntry(t, p, f.mode, times[f.name], true)
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, f.data) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", f.name, len(got), err, len(f.data))
		}
	}
	for d, mode := range dirs {
		checkEntry(t, filepath.Join(out, d), fs.ModeDir|mode, times[d], true)
	}
	for name, target := range links {
		if got, err := os.Readlink(filepath.Join(out, name)); got != target || err != nil {
			t.Errorf("symlink %s: %q %v, want %q", name, got, err, target)
		}
	}
	ents, err := os.ReadDir(out)
	mustDo(t, err)
	if len(ents) != 4 { // a.txt link run.sh sub
		t.Errorf("out holds %d entries, want 4", len(ents))
	}

	// A file into an existing instance directory, and back to a new name.
	e.mustVos("cp", filepath.Join(src, "a.txt"), "web:/data/sub")
	one := filepath.Join(t.TempDir(), "one.txt")
	e.mustVos("cp", "web:/data/sub/a.txt", one)
	checkEntry(t, one, 0o640, times["a.txt"], false) // the first copy read a.txt: its atime is now
	// Into an existing host directory: under the source's name.
	hostDir := t.TempDir()
	e.mustVos("cp", "web:/data/sub/big.bin", hostDir)
	if got, err := os.ReadFile(filepath.Join(hostDir, "big.bin")); err != nil || !bytes.Equal(got, big) {
		t.Errorf("cp into a host dir: %d bytes, %v", len(got), err)
	}
	// Without -r a symlink argument is followed.
	e.mustVos("cp", "web:/data/link", filepath.Join(hostDir, "followed"))
	if fi, err := os.Lstat(filepath.Join(hostDir, "followed")); err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(big)) {
		t.Errorf("cp of a symlink without -r: %v", err)
	}

	// Errors name the path and the reason, exit 1.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"cp", "web:/missing", filepath.Join(hostDir, "x")}, []string{"web:/missing", "no such file or directory"}},
		{[]string{"cp", "web:/data", filepath.Join(hostDir, "y")}, []string{"web:/data is a directory", "-r"}},
		{[]string{"cp", filepath.Join(src, "a.txt"), "web:/nodir/x"}, []string{"web:/nodir/x", "no such file or directory"}},
		{[]string{"cp", "a", "b"}, []string{"one side must name an instance"}},
		{[]string{"cp", "web:/a", "web:/b"}, []string{"both SRC and DST"}},
		{[]string{"cp", filepath.Join(src, "a.txt"), "nosuch:/x"}, []string{`no instance "nosuch"`}},
	} {
		_, errOut, code := e.vos(tc.args...)
		ok := code == 1
		for _, w := range tc.want {
			ok = ok && strings.Contains(errOut, w)
		}
		if !ok {
			t.Errorf("vos %s: exit %d: %s; want %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	e.mustVos("down", "web")
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkEntry compares a copied entry's type and bits, mtime, and with
// checkAtime its atime (stat'd before anything reads it), which the test
// set to mtime+1s.
func checkEntry(t *testing.T, p string, mode fs.FileMode, mtime time.Time, checkAtime bool) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Error(err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	atime := time.Unix(st.Atim.Sec, st.Atim.Nsec)
	if fi.Mode() != mode || !fi.ModTime().Equal(mtime) || checkAtime && !atime.Equal(mtime.Add(time.Second)) {
		t.Errorf("%s: mode %v mtime %v atime %v; want %v %v %v", p, fi.Mode(), fi.ModTime(), atime,
			mode, mtime, mtime.Add(time.Second))
	}
}
