package cmds

import (
	"errors"
	"io/fs"
	"os"
)

func init() { Register("ln", ln) }

// ln makes links: ln [-sf] TARGET LINK, ln [-sf] TARGET... DIR (in DIR,
// each under its target's last element), or ln [-sf] TARGET (here, the
// same way). Links are hard links unless -s makes symbolic ones; -f
// replaces an existing LINK that is not a directory.
func ln(e *Env, args ...string) error {
	f := newFlags(e, "ln", "[-sf] TARGET... LINK|DIR")
	symbolic := f.Bool("s", false, "make symbolic links")
	force := f.Bool("f", false, "replace existing links")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usage("ln [-sf] TARGET... LINK|DIR")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	targets, dest := names, "."
	intoDir := true
	if len(names) > 1 {
		targets, dest = names[:len(names)-1], names[len(names)-1]
		fi, err := o.Stat(dest)
		intoDir = err == nil && fi.IsDir()
		if len(targets) > 1 && !intoDir {
			if err != nil {
				warn(e, "ln", err)
			} else {
				warnf(e, "ln", "%s: not a directory", dest)
			}
			return &ExitError{Code: 1}
		}
	}
	bad := false
	for _, target := range targets {
		link := dest
		if intoDir {
			link = join(dest, base(target))
		}
		var tfi fs.FileInfo
		if !*symbolic {
			// A hard link's target must exist: say so by its name.
			if tfi, err = o.Lstat(target); err != nil {
				warn(e, "ln", err)
				bad = true
				continue
			}
		}
		if *force {
			if fi, err := o.Lstat(link); err == nil {
				if fi.IsDir() {
					warnf(e, "ln", "%s: is a directory", link)
					bad = true
					continue
				}
				if tfi != nil && sameFile(tfi, fi) { // removing it would lose it
					warnf(e, "ln", "%s and %s are the same file", target, link)
					bad = true
					continue
				}
				if err := o.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
					warn(e, "ln", err)
					bad = true
					continue
				}
			}
		}
		if *symbolic {
			err = o.Symlink(target, link)
		} else {
			err = o.Link(target, link)
		}
		if err != nil {
			// The link is what failed: name it, as ln does.
			var le *os.LinkError
			if errors.As(err, &le) {
				err = &fs.PathError{Op: le.Op, Path: le.New, Err: le.Err}
			}
			warn(e, "ln", err)
			bad = true
		}
	}
	return failed(bad)
}
