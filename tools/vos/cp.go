package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
	"github.com/vos-os/vos/tools/internal/cli"
)

func cpCommand() *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "cp [-r] SRC DST",
		Short: "Copy files between the host and an instance",
		Long: `Copy a file, or with -r a tree, between the host and an instance's
filesystem, either way. Exactly one of SRC and DST is NAME:/path (a path in
instance NAME); the other is a host path. As with cp, a DST that is an
existing directory receives SRC under its own name.

Permission bits (with setuid, setgid, sticky) and access and modification
times are preserved, symlinks are copied as symlinks, and the copy acts as
root inside the instance. Other file types are skipped with an error.`,
		Example: `  vos cp -r ./site web:/srv/www
  vos cp web:/var/log/httpd.log .`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, dst, inst, err := parseCpArgs(args[0], args[1])
			if err != nil {
				return err
			}
			c, err := cli.Connect()
			if err != nil {
				return err
			}
			defer c.NATS().Close()
			// A missing instance: say so now, not after retrying its FS.
			var top ipc.CtlTopologyRep
			if err := c.Call(cmd.Context(), ipc.CtlEndpoint(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: inst}, &top); err != nil {
				return err
			}
			c.RetryNoServer = 10 * time.Second // ride out an FS server's restart
			v := &vosSide{o: libvos.New(c.WithCred(&ipc.Root), inst), inst: inst}
			if src.remote {
				src.side = v
			} else {
				dst.side = v
			}
			cp := &copier{recursive: recursive, stderr: cmd.ErrOrStderr()}
			return cp.run(src, dst)
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "copy directories and their contents")
	return cmd
}

// endpoint is one side of a copy and the path on it.
type endpoint struct {
	side   side
	path   string
	remote bool
}

// parseCpArgs finds which argument names the instance: NAME:/path.
func parseCpArgs(a, b string) (src, dst endpoint, inst string, err error) {
	an, ap, aok := splitRemote(a)
	bn, bp, bok := splitRemote(b)
	switch {
	case aok && bok:
		return src, dst, "", errors.New("both SRC and DST name an instance; one side must be a host path")
	case !aok && !bok:
		return src, dst, "", fmt.Errorf("neither %q nor %q is NAME:/path; one side must name an instance", a, b)
	case aok:
		return endpoint{path: ap, remote: true}, endpoint{side: hostSide{}, path: b}, an, nil
	}
	return endpoint{side: hostSide{}, path: a}, endpoint{path: bp, remote: true}, bn, nil
}

// splitRemote recognizes NAME:/path with a valid instance name. A host
// path with a colon can be written ./name:x.
func splitRemote(s string) (inst, p string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || i+1 >= len(s) || s[i+1] != '/' || ipc.CheckName("instance", s[:i]) != nil {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// side is what the copy needs of a filesystem: the host's or an instance's.
type side interface {
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	Open(name string) (io.ReadCloser, error)
	Create(name string) (io.WriteCloser, error)
	Mkdir(name string, perm fs.FileMode) error
	Symlink(target, name string) error
	Readlink(name string) (string, error)
	Remove(name string) error
	Chmod(name string, mode fs.FileMode) error
	Chtimes(name string, atime, mtime time.Time) error
	Join(dir, name string) string
	Base(name string) string
	Display(name string) string // how messages name the path
}

type hostSide struct{}

func (hostSide) Stat(n string) (fs.FileInfo, error)      { return os.Stat(n) }
func (hostSide) Lstat(n string) (fs.FileInfo, error)     { return os.Lstat(n) }
func (hostSide) ReadDir(n string) ([]fs.DirEntry, error) { return os.ReadDir(n) }
func (hostSide) Open(n string) (io.ReadCloser, error)    { return os.Open(n) }
func (hostSide) Mkdir(n string, perm fs.FileMode) error  { return os.Mkdir(n, perm) }
func (hostSide) Symlink(target, n string) error          { return os.Symlink(target, n) }
func (hostSide) Readlink(n string) (string, error)       { return os.Readlink(n) }
func (hostSide) Remove(n string) error                   { return os.Remove(n) }
func (hostSide) Chmod(n string, mode fs.FileMode) error  { return os.Chmod(n, mode) }
func (hostSide) Chtimes(n string, a, m time.Time) error  { return os.Chtimes(n, a, m) }
func (hostSide) Join(dir, name string) string            { return filepath.Join(dir, name) }
func (hostSide) Base(n string) string                    { return filepath.Base(n) }
func (hostSide) Display(n string) string                 { return n }
func (hostSide) Create(n string) (io.WriteCloser, error) {
	return os.OpenFile(n, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
}

type vosSide struct {
	o    *libvos.OS
	inst string
}

func (v *vosSide) Stat(n string) (fs.FileInfo, error)      { return v.o.Stat(n) }
func (v *vosSide) Lstat(n string) (fs.FileInfo, error)     { return v.o.Lstat(n) }
func (v *vosSide) ReadDir(n string) ([]fs.DirEntry, error) { return v.o.ReadDir(n) }
func (v *vosSide) Open(n string) (io.ReadCloser, error)    { return v.o.Open(n) }
func (v *vosSide) Mkdir(n string, perm fs.FileMode) error  { return v.o.Mkdir(n, perm) }
func (v *vosSide) Symlink(target, n string) error          { return v.o.Symlink(target, n) }
func (v *vosSide) Readlink(n string) (string, error)       { return v.o.Readlink(n) }
func (v *vosSide) Remove(n string) error                   { return v.o.Remove(n) }
func (v *vosSide) Chmod(n string, mode fs.FileMode) error  { return v.o.Chmod(n, mode) }
func (v *vosSide) Chtimes(n string, a, m time.Time) error  { return v.o.Chtimes(n, a, m) }
func (v *vosSide) Join(dir, name string) string            { return path.Join(dir, name) }
func (v *vosSide) Base(n string) string                    { return path.Base(n) }
func (v *vosSide) Display(n string) string                 { return v.inst + ":" + n }
func (v *vosSide) Create(n string) (io.WriteCloser, error) {
	// 0600 until the copy is done and Chmod sets the source's bits.
	return v.o.OpenFile(n, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
}

// copier copies one tree; per-file failures are reported and counted, and
// the copy goes on with the rest, as cp does.
type copier struct {
	recursive bool
	stderr    io.Writer
	failed    int
}

func (c *copier) run(src, dst endpoint) error {
	stat := src.side.Stat // without -r, a symlink argument is followed, as cp does
	if c.recursive {
		stat = src.side.Lstat
	}
	fi, err := stat(src.path)
	if err != nil {
		return describe(src.side, src.path, err)
	}
	if fi.IsDir() && !c.recursive {
		return fmt.Errorf("%s is a directory (use -r to copy it)", src.side.Display(src.path))
	}
	target := dst.path
	if dfi, err := dst.side.Stat(dst.path); err == nil && dfi.IsDir() {
		target = dst.side.Join(dst.path, src.side.Base(src.path))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return describe(dst.side, dst.path, err)
	}
	if err := c.copy(src.side, src.path, fi, dst.side, target); err != nil {
		return err
	}
	if c.failed > 0 {
		return cli.ExitError{Code: 1}
	}
	return nil
}

// copy copies one entry whose (l)stat is fi. A failure inside a directory
// is reported and skipped; a failure of the entry itself is returned.
func (c *copier) copy(s side, sp string, fi fs.FileInfo, d side, dp string) error {
	switch {
	case fi.Mode().Type() == fs.ModeSymlink:
		target, err := s.Readlink(sp)
		if err != nil {
			return describe(s, sp, err)
		}
		if old, err := d.Lstat(dp); err == nil && !old.IsDir() {
			if err := d.Remove(dp); err != nil {
				return describe(d, dp, err)
			}
		}
		if err := d.Symlink(target, dp); err != nil {
			return describe(d, dp, err)
		}
		return nil
	case fi.IsDir():
		if err := d.Mkdir(dp, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return describe(d, dp, err)
		}
		ents, err := s.ReadDir(sp)
		if err != nil {
			return describe(s, sp, err)
		}
		for _, e := range ents {
			esp, edp := s.Join(sp, e.Name()), d.Join(dp, e.Name())
			efi, err := s.Lstat(esp)
			if err == nil {
				err = c.copy(s, esp, efi, d, edp)
			} else {
				err = describe(s, esp, err)
			}
			if err != nil {
				fmt.Fprintln(c.stderr, "vos cp:", err)
				c.failed++
			}
		}
	case fi.Mode().IsRegular():
		if err := copyData(s, sp, d, dp); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s: skipped: %v is not a regular file, directory or symlink", s.Display(sp), fi.Mode().Type())
	}
	// Bits and times last: a directory's mtime changes as it fills.
	if err := d.Chmod(dp, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return describe(d, dp, err)
	}
	if err := d.Chtimes(dp, atime(fi), fi.ModTime()); err != nil {
		return describe(d, dp, err)
	}
	return nil
}

func copyData(s side, sp string, d side, dp string) error {
	r, err := s.Open(sp)
	if err != nil {
		return describe(s, sp, err)
	}
	defer r.Close()
	w, err := d.Create(dp)
	if err != nil {
		return describe(d, dp, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		var pe *fs.PathError
		if errors.As(err, &pe) && (pe.Op == "read" || pe.Op == "readat") && pe.Path == sp {
			return describe(s, sp, err)
		}
		return describe(d, dp, err)
	}
	if err := w.Close(); err != nil {
		return describe(d, dp, err)
	}
	return nil
}

// atime is the access time of fi from either side, or its mtime.
func atime(fi fs.FileInfo) time.Time {
	switch st := fi.Sys().(type) {
	case *syscall.Stat_t:
		return time.Unix(st.Atim.Sec, st.Atim.Nsec)
	case *libvos.Attr:
		return st.Atime
	}
	return fi.ModTime()
}

// describe names the path as the user wrote it (NAME:/path for the
// instance), the operation and the reason.
func describe(s side, p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s: %w", s.Display(p), pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %s: %w", s.Display(p), le.Op, le.Err)
	}
	return fmt.Errorf("%s: %w", s.Display(p), err)
}
