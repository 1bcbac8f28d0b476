package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/manifest"
	"github.com/vos-os/vos/tools/internal/cli"
)

func rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vos",
		Short: "Run and inspect VOS instances",
		Long: `vos launches VOS instances from manifests and inspects them.

Environment: VOS_URL (the node to talk to, default ` + cli.DefaultURL + `),
VOS_HOME (its data directory and credentials, default ~/.vos).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(upCommand(), downCommand(), lsCommand(), nodeCommand(), topologyCommand(), debugCommand(), mountCommand(), umountCommand(), execCommand(), psCommand(), killCommand(), cpCommand(), migrateCommand(), nodesCommand())
	return root
}

func upCommand() *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "up FILE",
		Short: "Launch an instance from a manifest",
		Long: `Launch an instance from a YAML manifest and wait until its servers run.
The manifest is checked first; a bad one is rejected, naming each bad field.
When no node answers at VOS_URL, a local vosd is started in the background.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			spec, err := manifest.Parse(path)
			if err != nil {
				return err
			}
			abs, err := filepath.Abs(path)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(abs)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := cli.ConnectOrStart(ctx)
			if err != nil {
				return err
			}
			defer c.NATS().Close()
			var rep ipc.CtlUpRep
			if err := c.Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlUp, &ipc.CtlUpReq{File: abs, Manifest: data}, &rep); err != nil {
				return err
			}
			if wait > 0 {
				if err := waitRunning(ctx, c, spec.Name, wait); err != nil {
					return err
				}
			}
			var parts []string
			for _, role := range ipc.Roles {
				parts = append(parts, role+"@"+rep.Placement[role])
			}
			fmt.Fprintf(cmd.OutOrStdout(), "instance %s up: %s\n", rep.Instance, strings.Join(parts, " "))
			return nil
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the servers to run (0: do not wait)")
	return cmd
}

// waitRunning polls the topology until every server runs.
func waitRunning(ctx context.Context, c *ipc.Conn, name string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var top ipc.CtlTopologyRep
		err := c.Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: name}, &top)
		if err != nil {
			return err
		}
		var waiting []string
		for _, s := range top.Servers {
			if s.State != "running" {
				w := fmt.Sprintf("%s is %s", s.Role, s.State)
				if s.LastError != "" {
					w += " (" + s.LastError + ")"
				}
				waiting = append(waiting, w)
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instance %s not running after %v: %s", name, d, strings.Join(waiting, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func downCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "down NAME",
		Short: "Stop an instance and delete its state",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := ctl(ctx, ipc.OpCtlDown, &ipc.CtlDownReq{Name: args[0]}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "instance %s down\n", args[0])
			return nil
		},
	}
}

func lsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List instances",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rep ipc.CtlListRep
			if err := ctl(cmd.Context(), ipc.OpCtlList, &ipc.CtlListReq{}, &rep); err != nil {
				return err
			}
			t := cli.NewTable(cmd.OutOrStdout(), "NAME", "STATE", "SERVERS", "NODES", "CREATED")
			for _, in := range rep.Instances {
				nodes := strings.Join(in.Nodes, ",")
				if nodes == "" {
					nodes = "(all)"
				}
				t.Row(in.Name, in.State, fmt.Sprintf("%d/%d running", in.Running, in.Servers), nodes, cli.Ago(in.Created))
			}
			return t.Flush()
		},
	}
}

func nodeCommand() *cobra.Command {
	node := &cobra.Command{Use: "node", Short: "Inspect the cluster's nodes"}
	node.AddCommand(&cobra.Command{
		Use:   "ls",
		Short: "List nodes with their state, load and servers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rep ipc.CtlNodesRep
			if err := ctl(cmd.Context(), ipc.OpCtlNodes, &ipc.CtlNodesReq{}, &rep); err != nil {
				return err
			}
			t := cli.NewTable(cmd.OutOrStdout(), "NAME", "STATE", "URL", "LOAD", "MEM", "INSTANCES", "SERVERS", "SEEN")
			for _, n := range rep.Nodes {
				t.Row(n.Name, n.State, n.URL, fmt.Sprintf("%.2f", n.Load), cli.Bytes(int64(n.MemUsed)),
					dash(strings.Join(n.Instances, ",")), len(n.Servers), cli.Ago(n.LastSeen))
			}
			return t.Flush()
		},
	})
	return node
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func debugCommand() *cobra.Command {
	d := &cobra.Command{Use: "debug", Short: "Tools for testing VOS itself"}
	d.AddCommand(&cobra.Command{
		Use:   "crash NAME ROLE",
		Short: "Kill a server abruptly, as kill -9 would; its node restarts it from the journal",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !ipc.IsRole(args[1]) {
				return fmt.Errorf("unknown role %q (want one of %s)", args[1], strings.Join(ipc.Roles, ", "))
			}
			var rep ipc.CtlCrashRep
			if err := ctl(cmd.Context(), ipc.OpCtlCrash, &ipc.CtlCrashReq{Name: args[0], Role: args[1]}, &rep); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "killed the %s server of %s on %s\n", args[1], args[0], rep.Node)
			return nil
		},
	})
	return d
}

// ctl connects to the node, makes one control-plane call and disconnects.
func ctl(ctx context.Context, op ipc.Op, req, rep any) error {
	c, err := cli.Connect()
	if err != nil {
		return err
	}
	defer c.NATS().Close()
	return c.Call(ctx, ipc.CtlEndpoint(), op, req, rep)
}

// instanceConn connects and checks that the instance exists, so that a
// wrong name fails at once and says so (rather than "no server" from its
// servers).
func instanceConn(ctx context.Context, name string) (*ipc.Conn, error) {
	c, err := cli.Connect()
	if err != nil {
		return nil, err
	}
	if err := c.Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlInstance, &ipc.CtlInstanceReq{Name: name}, nil); err != nil {
		c.NATS().Close()
		return nil, err
	}
	return c, nil
}
