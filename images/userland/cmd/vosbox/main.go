// Command vosbox is the image's multi-call binary: the command to run is
// its argv[0] (how a node's system task starts it), or its first argument.
//
//	vosbox --list          the commands
//	vosbox CMD [ARGS...]   run one
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vos-os/vos/images/userland/cmds"
	"github.com/vos-os/vos/images/userland/sh"
	"github.com/vos-os/vos/libvos"
)

func init() { cmds.Register("sh", sh.Main) }

func main() {
	name, args := filepath.Base(os.Args[0]), os.Args[1:]
	if name == "vosbox" {
		if len(args) == 0 || args[0] == "--help" {
			fmt.Fprintln(os.Stderr, "usage: vosbox --list | vosbox COMMAND [ARGS...]")
			os.Exit(2)
		}
		if args[0] == "--list" {
			for _, n := range cmds.Names() {
				fmt.Println(n)
			}
			return
		}
		name, args = args[0], args[1:]
	}
	libvos.WatchLifeline() // end with the node daemon
	f, ok := cmds.Lookup(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "vosbox: no command %q (vosbox --list)\n", name)
		os.Exit(127)
	}
	os.Exit(cmds.Status(name, f(cmds.NewEnv(), args...), os.Stderr))
}
