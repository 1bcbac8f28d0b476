package cmds

func init() { Register("mkfifo", mkfifo) }

// mkfifo makes FIFOs: mkfifo [-m MODE] NAME... -m gives them the octal
// MODE exactly (not 0666 less the umask). Programs of the instance on any
// node pipe bytes through them (the FS server keeps the pipe).
func mkfifo(e *Env, args ...string) error {
	f := newFlags(e, "mkfifo", "[-m MODE] NAME...")
	var mode octalMode
	f.Var(&mode, "m", "`mode` of the new FIFOs, in octal")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usage("mkfifo [-m MODE] NAME...")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	bad := false
	for _, name := range names {
		err := o.Mkfifo(name, 0o666)
		if err == nil && mode.set {
			err = o.Chmod(name, mode.mode)
		}
		if err != nil {
			warn(e, "mkfifo", err)
			bad = true
		}
	}
	return failed(bad)
}
