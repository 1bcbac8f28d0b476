package cmds

import (
	"fmt"
	"io/fs"
	"strconv"
)

func init() { Register("mkdir", mkdir) }

// mkdir makes directories: mkdir [-p] [-m MODE] DIR... -p makes missing
// parents too and lets a directory exist already; -m gives the new
// directories the octal MODE exactly (not 0777 less the umask).
func mkdir(e *Env, args ...string) error {
	f := newFlags(e, "mkdir", "[-p] [-m MODE] DIR...")
	parents := f.Bool("p", false, "make parents as needed; no error if a directory exists")
	var mode octalMode
	f.Var(&mode, "m", "`mode` of the new directories, in octal")
	dirs, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usage("mkdir [-p] [-m MODE] DIR...")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	bad := false
	for _, dir := range dirs {
		if *parents {
			if fi, err := o.Stat(dir); err == nil && fi.IsDir() {
				continue
			}
			err = o.MkdirAll(dir, 0o777)
		} else {
			err = o.Mkdir(dir, 0o777)
		}
		if err == nil && mode.set {
			err = o.Chmod(dir, mode.mode)
		}
		if err != nil {
			warn(e, "mkdir", err)
			bad = true
		}
	}
	return failed(bad)
}

// octalMode is a flag holding a mode in octal, with setuid, setgid and
// sticky (04000, 02000, 01000).
type octalMode struct {
	mode fs.FileMode
	set  bool
}

func (m *octalMode) String() string {
	if m == nil || !m.set {
		return ""
	}
	return fmt.Sprintf("%04o", uint32(m.mode.Perm())|specialBits(m.mode))
}

func (m *octalMode) Set(s string) error {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return fmt.Errorf("not an octal mode")
	}
	m.mode = fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		m.mode |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		m.mode |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		m.mode |= fs.ModeSticky
	}
	m.set = true
	return nil
}

// specialBits are m's setuid, setgid and sticky bits in octal.
func specialBits(m fs.FileMode) uint32 {
	var b uint32
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}
