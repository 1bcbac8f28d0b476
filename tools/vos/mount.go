package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/fusefs"
	"github.com/vos-os/vos/tools/internal/cli"
)

func mountCommand() *cobra.Command {
	var verbose, debug bool
	var opts fusefs.Options
	cmd := &cobra.Command{
		Use:   "mount NAME DIR",
		Short: "Mount an instance's filesystem on a host directory (FUSE)",
		Long: `Mount the filesystem of instance NAME on the host directory DIR, so that
host programs use the instance's files. Runs in the foreground until DIR is
unmounted (vos umount DIR, or umount DIR) or it gets SIGINT or SIGTERM, and
then unmounts and exits 0. Needs root (it mounts with mount(2)).

Every request acts as the host process that made it (its uid, gid and
groups); the instance's FS server decides what it may do. Other nodes'
changes show at once (FS events) and at the latest when a file is opened.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, dir := args[0], args[1]
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			fail := func(format string, a ...any) error {
				return fmt.Errorf("mount %s on %s: %s", name, abs, fmt.Sprintf(format, a...))
			}
			if err := ipc.CheckName("instance", name); err != nil {
				return fail("%v", err)
			}
			st, err := os.Stat(abs)
			switch {
			case errors.Is(err, os.ErrNotExist):
				return fail("%s does not exist", abs)
			case err != nil:
				return fail("%v", err)
			case !st.IsDir():
				return fail("%s is not a directory", abs)
			}
			if src, ok, _ := fusefs.MountedAt(abs); ok {
				return fail("already mounted (%s)", src)
			}
			if os.Geteuid() != 0 {
				return fail("mounting needs root")
			}
			c, err := cli.Connect()
			if err != nil {
				return err
			}
			defer c.NATS().Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			var top ipc.CtlTopologyRep
			err = c.Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: name}, &top)
			cancel()
			if err != nil {
				return fail("%v", err)
			}
			opts.Debug = debug
			g, err := fusefs.Mount(c, name, abs, opts)
			if err != nil {
				return err
			}
			if verbose {
				fmt.Fprintf(cmd.OutOrStdout(), "mounted %s on %s; unmount with: vos umount %s\n", name, abs, abs)
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(sigs)
			for {
				select {
				case <-g.Done():
					if verbose {
						fmt.Fprintf(cmd.OutOrStdout(), "%s unmounted\n", abs)
					}
					return nil
				case s := <-sigs:
					err := g.Unmount()
					if err == nil {
						if verbose {
							fmt.Fprintf(cmd.OutOrStdout(), "%v: unmounted %s\n", s, abs)
						}
						return nil
					}
					// Busy: detach it, so that new users see the
					// directory beneath; the ones inside lose it now.
					fmt.Fprintf(cmd.ErrOrStderr(), "vos: %v: %s is busy; detaching it\n", s, abs)
					if err := syscall.Unmount(abs, syscall.MNT_DETACH); err != nil {
						return fmt.Errorf("unmount %s: %w", abs, err)
					}
					g.Wait()
					return nil
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "say when mounted and unmounted")
	cmd.Flags().BoolVar(&debug, "debug", false, "log every FUSE request and reply to stderr")
	cmd.Flags().DurationVar(&opts.AttrTimeout, "attr-timeout", 0, "how long the kernel caches attributes (default 1s; negative: not at all)")
	cmd.Flags().DurationVar(&opts.EntryTimeout, "entry-timeout", 0, "how long the kernel caches names (default 1s; negative: not at all)")
	return cmd
}

func umountCommand() *cobra.Command {
	var lazy bool
	cmd := &cobra.Command{
		Use:   "umount DIR",
		Short: "Unmount an instance filesystem that vos mount mounted",
		Long: `Unmount the VOS mount on DIR; the vos mount serving it then exits.
Fails while programs use it, unless --lazy detaches it at once.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			abs, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			src, ok, err := fusefs.MountedAt(abs)
			if err != nil {
				return fmt.Errorf("umount %s: %w", abs, err)
			}
			if !ok {
				return fmt.Errorf("umount %s: not a VOS mount", abs)
			}
			flags := 0
			if lazy {
				flags = syscall.MNT_DETACH
			}
			if err := syscall.Unmount(abs, flags); err != nil {
				if errors.Is(err, syscall.EBUSY) {
					return fmt.Errorf("umount %s (%s): busy: programs use it (--lazy detaches it anyway)", abs, src)
				}
				return fmt.Errorf("umount %s (%s): %w", abs, src, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&lazy, "lazy", "l", false, "detach now even if busy (MNT_DETACH)")
	return cmd
}
