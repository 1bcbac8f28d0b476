package cmds

func init() { Register("mv", mv) }

// mv moves (renames) files: mv SOURCE DEST, or mv SOURCE... DIR (into DIR,
// each under its own name). An existing DEST file is replaced, as
// rename(2) does; -f is accepted for compatibility (mv never asks).
func mv(e *Env, args ...string) error {
	f := newFlags(e, "mv", "[-f] SOURCE... DEST")
	f.Bool("f", false, "do not prompt (mv never does)")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(names) < 2 {
		return usage("mv [-f] SOURCE... DEST")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	srcs, dest := names[:len(names)-1], names[len(names)-1]
	dfi, derr := o.Stat(dest)
	intoDir := derr == nil && dfi.IsDir()
	if len(srcs) > 1 && !intoDir {
		if derr != nil {
			warn(e, "mv", derr)
		} else {
			warnf(e, "mv", "%s: not a directory", dest)
		}
		return &ExitError{Code: 1}
	}
	bad := false
	for _, src := range srcs {
		if _, err := o.Lstat(src); err != nil {
			warn(e, "mv", err)
			bad = true
			continue
		}
		to := dest
		if intoDir {
			to = join(dest, base(src))
		}
		if err := o.Rename(src, to); err != nil {
			warn(e, "mv", err)
			bad = true
		}
	}
	return failed(bad)
}
