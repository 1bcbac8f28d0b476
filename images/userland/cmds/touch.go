package cmds

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/vos-os/vos/libvos"
)

func init() { Register("touch", touch) }

// touch sets files' access and modification times to now, creating the
// files that do not exist (empty, mode 0666 less the umask): touch [-c]
// FILE... -c creates none.
func touch(e *Env, args ...string) error {
	f := newFlags(e, "touch", "[-c] FILE...")
	noCreate := f.Bool("c", false, "do not create files")
	names, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usage("touch [-c] FILE...")
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	bad := false
	for _, name := range names {
		now := time.Now()
		err := o.Chtimes(name, now, now)
		if errors.Is(err, fs.ErrNotExist) {
			if *noCreate {
				continue
			}
			var fh *libvos.File
			if fh, err = o.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o666); err == nil {
				err = fh.Close()
			}
		}
		if err != nil {
			warn(e, "touch", err)
			bad = true
		}
	}
	return failed(bad)
}
