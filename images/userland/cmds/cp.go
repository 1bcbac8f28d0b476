package cmds

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/vos-os/vos/libvos"
)

func init() { Register("cp", cp) }

// cp copies files: cp [-apr] SOURCE DEST, or cp [-apr] SOURCE... DIR
// (into DIR, each under its own name). A file cp creates gets its source's
// permission bits; an existing one keeps its own. -r (or -R) copies
// directories with their contents, and symlinks as symlinks; -p gives the
// copies their sources' modes (setuid, setgid and sticky too) and times
// (not their owners); -a is -rp.
func cp(e *Env, args ...string) error {
	f := newFlags(e, "cp", "[-apr] SOURCE... DEST")
	c := &copier{e: e}
	f.BoolVar(&c.recursive, "r", false, "copy directories recursively")
	f.BoolVar(&c.recursive, "R", false, "same as -r")
	f.BoolVar(&c.preserve, "p", false, "preserve modes and times")
	all := f.Bool("a", false, "same as -rp")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if *all {
		c.recursive, c.preserve = true, true
	}
	if len(names) < 2 {
		return usage("cp [-apr] SOURCE... DEST")
	}
	if c.o, err = e.OS(); err != nil {
		return err
	}
	srcs, dest := names[:len(names)-1], names[len(names)-1]
	dfi, derr := c.o.Stat(dest)
	intoDir := derr == nil && dfi.IsDir()
	if len(srcs) > 1 && !intoDir {
		if derr != nil {
			warn(e, "cp", derr)
		} else {
			warnf(e, "cp", "%s: not a directory", dest)
		}
		return &ExitError{Code: 1}
	}
	bad := false
	for _, src := range srcs {
		to := dest
		if intoDir {
			to = join(dest, base(src))
		}
		if !c.copy(src, to, true) {
			bad = true
		}
	}
	return failed(bad)
}

type copier struct {
	e         *Env
	o         *libvos.OS
	recursive bool
	preserve  bool
	made      map[uint64]bool // directories this copy made: never copied into themselves
}

// copy copies src to dst; false after an error it printed.
func (c *copier) copy(src, dst string, top bool) bool {
	var sfi fs.FileInfo
	var err error
	if c.recursive {
		sfi, err = c.o.Lstat(src)
	} else {
		sfi, err = c.o.Stat(src)
	}
	if err != nil {
		warn(c.e, "cp", err)
		return false
	}
	switch {
	case sfi.IsDir() && !c.recursive:
		warnf(c.e, "cp", "-r not specified; omitting directory %s", src)
		return false
	case sfi.IsDir():
		return c.copyDir(src, dst, sfi, top)
	case sfi.Mode()&fs.ModeSymlink != 0:
		target, err := c.o.Readlink(src)
		if err == nil {
			err = c.o.Symlink(target, dst)
		}
		if err != nil {
			warn(c.e, "cp", err)
			return false
		}
		return true
	}
	return c.copyFile(src, dst, sfi)
}

func (c *copier) copyFile(src, dst string, sfi fs.FileInfo) bool {
	dfi, err := c.o.Stat(dst)
	exists := err == nil
	switch {
	case exists && sameFile(sfi, dfi):
		warnf(c.e, "cp", "%s and %s are the same file", src, dst)
		return false
	case exists && dfi.IsDir():
		warnf(c.e, "cp", "cannot overwrite directory %s with non-directory", dst)
		return false
	}
	in, err := c.o.Open(src)
	if err != nil {
		warn(c.e, "cp", err)
		return false
	}
	defer in.Close()
	out, err := c.o.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, sfi.Mode().Perm())
	if err != nil {
		warn(c.e, "cp", err)
		return false
	}
	switch {
	case c.preserve:
		err = out.Chmod(sfi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky))
	case !exists:
		err = out.Chmod(sfi.Mode().Perm()) // exactly, not less the umask
	}
	if err == nil {
		_, err = io.Copy(out, in)
	}
	if err1 := out.Close(); err == nil {
		err = err1
	}
	if err == nil && c.preserve {
		err = c.times(src, dst, sfi)
	}
	if err != nil {
		warn(c.e, "cp", err)
		return false
	}
	return true
}

// times gives dst the access and modification times of src.
func (c *copier) times(src, dst string, sfi fs.FileInfo) error {
	atime := sfi.ModTime()
	if a, ok := sfi.Sys().(*libvos.Attr); ok {
		atime = a.Atime
	}
	return c.o.Chtimes(dst, atime, sfi.ModTime())
}

func (c *copier) copyDir(src, dst string, sfi fs.FileInfo, top bool) bool {
	if top {
		if inside, err := c.within(dst, src); err != nil {
			warn(c.e, "cp", err)
			return false
		} else if inside {
			warnf(c.e, "cp", "cannot copy a directory, %s, into itself, %s", src, dst)
			return false
		}
	}
	dfi, err := c.o.Stat(dst)
	made := false
	switch {
	case err == nil && !dfi.IsDir():
		warnf(c.e, "cp", "cannot overwrite non-directory %s with directory %s", dst, src)
		return false
	case err != nil && errors.Is(err, fs.ErrNotExist):
		// Writable while it is filled; its mode comes at the end.
		if err := c.o.Mkdir(dst, 0o700); err != nil {
			warn(c.e, "cp", err)
			return false
		}
		if dfi, err = c.o.Stat(dst); err != nil {
			warn(c.e, "cp", err)
			return false
		}
		made = true
	case err != nil:
		warn(c.e, "cp", err)
		return false
	}
	if c.made == nil {
		c.made = map[uint64]bool{}
	}
	c.made[ino(dfi)] = true
	ents, err := c.o.ReadDir(src)
	ok := err == nil
	if err != nil {
		warn(c.e, "cp", err)
	}
	for _, d := range ents {
		if d.IsDir() {
			if fi, err := d.Info(); err == nil && c.made[ino(fi)] {
				continue // the copy itself, made inside its source
			}
		}
		ok = c.copy(join(src, d.Name()), join(dst, d.Name()), false) && ok
	}
	var err1 error
	switch {
	case c.preserve:
		err1 = c.o.Chmod(dst, sfi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		if err1 == nil {
			err1 = c.times(src, dst, sfi)
		}
	case made:
		err1 = c.o.Chmod(dst, sfi.Mode().Perm())
	}
	if err1 != nil {
		warn(c.e, "cp", err1)
		ok = false
	}
	return ok
}

// within tells whether the name dst is src or under it, both made
// absolute from the current directory.
func (c *copier) within(dst, src string) (bool, error) {
	abs := func(p string) (string, error) {
		if strings.HasPrefix(p, "/") {
			return path.Clean(p), nil
		}
		wd, err := c.o.Getwd()
		return path.Join(wd, p), err
	}
	s, err := abs(src)
	if err != nil {
		return false, err
	}
	d, err := abs(dst)
	if err != nil {
		return false, err
	}
	return d == s || strings.HasPrefix(d, strings.TrimSuffix(s, "/")+"/"), nil
}

// ino is a FileInfo's inode number (0 if it has none).
func ino(fi fs.FileInfo) uint64 {
	if a, ok := fi.Sys().(*libvos.Attr); ok {
		return a.Ino
	}
	return 0
}

// sameFile tells whether two FileInfos are of one inode.
func sameFile(a, b fs.FileInfo) bool { return ino(a) != 0 && ino(a) == ino(b) }
