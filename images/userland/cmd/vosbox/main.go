// Command vosbox is the image's multi-call binary: the command to run is
// its argv[0] (how a node's system task starts it), or its first argument.
//
//	vosbox --list          the commands
//	vosbox CMD [ARGS...]   run one
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

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
	libvos.Start() // non-dumpable, credential taken, ends with the node daemon
	defaultSignals()
	f, ok := cmds.Lookup(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "vosbox: no command %q (vosbox --list)\n", name)
		os.Exit(127)
	}
	os.Exit(cmds.Status(name, f(cmds.NewEnv(), args...), os.Stderr))
}

// defaultSignals gives the signals that Go's runtime would catch and ignore
// their Unix default (ending the process), as a C program would have: kill
// -USR1 of a sleep ends it.
func defaultSignals() {
	sigs := []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGVTALRM, syscall.SIGPWR}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		s := <-ch
		signal.Reset(s)
		_ = syscall.Kill(os.Getpid(), s.(syscall.Signal))
	}()
}
