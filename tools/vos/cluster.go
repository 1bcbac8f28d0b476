package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/tools/internal/cli"
)

func migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate NAME ROLE NODE",
		Short: "Move a running server to another node without failing a call",
		Long: `Move a running server (fs, mm, pm or net) of an instance to another node. A
copy starts on NODE from the journal; the running one hands over (calls that
arrive meanwhile are retried, not lost) and stops. If the new copy fails to
start, the old one keeps serving.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			var rep ipc.CtlMigrateRep
			if err := ctl(ctx, ipc.OpCtlMigrate, &ipc.CtlMigrateReq{Name: args[0], Role: args[1], Node: args[2]}, &rep); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s of %s moved from %s to %s (journal %d; pause %s, total %s)\n",
				args[1], args[0], rep.From, rep.To, rep.Seq, cli.Duration(rep.Pause), cli.Duration(rep.Total))
			return nil
		},
	}
}

func nodesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "nodes NAME add|remove NODE...",
		Short: "Grow or shrink the set of nodes an instance runs on",
		Long: `Add nodes to an instance, or remove them. Servers on a removed node move off
it first (live when the node is up). Processes cannot move between nodes:
those on a removed node get SIGTERM, then SIGKILL after 5 s.`,
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &ipc.CtlSetNodesReq{Name: args[0]}
			switch args[1] {
			case "add":
				req.Add = args[2:]
			case "remove", "rm":
				req.Remove = args[2:]
			default:
				return fmt.Errorf("usage: vos nodes NAME add|remove NODE... (not %q)", args[1])
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
			defer cancel()
			var rep ipc.CtlSetNodesRep
			err := ctl(ctx, ipc.OpCtlSetNodes, req, &rep)
			for _, m := range rep.Moved {
				fmt.Fprintf(cmd.OutOrStdout(), "moved %s\n", m)
			}
			if len(rep.Killed) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "ended %d processes on the removed nodes\n", len(rep.Killed))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "instance %s runs on %s\n", args[0], strings.Join(rep.Nodes, ", "))
			return nil
		},
	}
}
