package cmds

import (
	"errors"
	"io/fs"

	"github.com/vos-os/vos/libvos"
)

func init() { Register("rm", rm) }

// rm removes files: rm [-rf] FILE... -r (or -R) removes directories and
// everything in them; -f ignores files that do not exist and succeeds with
// no FILE. rm refuses to remove ".", ".." and "/".
func rm(e *Env, args ...string) error {
	f := newFlags(e, "rm", "[-rf] FILE...")
	var recursive bool
	f.BoolVar(&recursive, "r", false, "remove directories and their contents")
	f.BoolVar(&recursive, "R", false, "same as -r")
	force := f.Bool("f", false, "ignore missing files")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		if *force {
			return nil
		}
		return usage("rm [-rf] FILE...")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	bad := false
	for _, name := range names {
		if b := base(name); b == "." || b == ".." || b == "/" {
			warnf(e, "rm", "refusing to remove %q", name)
			bad = true
			continue
		}
		fi, err := o.Lstat(name)
		switch {
		case err != nil:
			if !*force || !errors.Is(err, fs.ErrNotExist) {
				warn(e, "rm", err)
				bad = true
			}
		case fi.IsDir() && !recursive:
			warnf(e, "rm", "%s: is a directory", name)
			bad = true
		case fi.IsDir():
			if !removeTree(e, o, name) {
				bad = true
			}
		default:
			if err := o.Remove(name); err != nil && !(*force && errors.Is(err, fs.ErrNotExist)) {
				warn(e, "rm", err)
				bad = true
			}
		}
	}
	return failed(bad)
}

// removeTree removes a directory and its contents, going on after an
// error (which it prints) to remove what it can; false if anything is left.
func removeTree(e *Env, o *libvos.OS, dir string) bool {
	ents, err := o.ReadDir(dir)
	if err != nil {
		warn(e, "rm", err)
		return false
	}
	ok := true
	for _, d := range ents {
		p := join(dir, d.Name())
		if d.IsDir() {
			ok = removeTree(e, o, p) && ok
			continue
		}
		if err := o.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			warn(e, "rm", err)
			ok = false
		}
	}
	if !ok {
		return false
	}
	if err := o.Remove(dir); err != nil {
		warn(e, "rm", err)
		return false
	}
	return true
}
