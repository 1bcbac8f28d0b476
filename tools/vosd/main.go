// Command vosd is the VOS node daemon: the per-node kernel. It embeds a
// nats-server with JetStream (or joins an existing NATS with --nats),
// registers the node, and runs the servers that the cluster places on it,
// restarting them when they fail. It stops cleanly on SIGINT or SIGTERM.
//
//	vosd [--name N] [--home DIR] [--listen HOST:PORT]
//	     [--cluster HOST:PORT --routes nats://PEER:PORT,...] [--nats URL]
//
// VOS_HOME and VOS_URL set the defaults of --home and --listen.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/vos-os/vos/kernel"
	"github.com/vos-os/vos/kernel/systask"
	"github.com/vos-os/vos/tools/internal/cli"
)

func main() {
	// vosd re-executes itself as the init of confined programs.
	if code, ok := systask.Reexec(); ok {
		os.Exit(code)
	}
	if err := command().Execute(); err != nil {
		os.Exit(cli.Code(err))
	}
}

func command() *cobra.Command {
	var o struct {
		name, home, listen, cluster, nats, logLevel string
		routes                                      []string
		replicas                                    int
	}
	cmd := &cobra.Command{
		Use:   "vosd",
		Short: "The VOS node daemon",
		Long: `vosd runs one node of a VOS cluster: an embedded NATS server with JetStream,
the node's registration and heartbeat, and the servers placed on it.

Environment: VOS_HOME (data directory, default ~/.vos), VOS_URL (address to
listen on, default ` + cli.DefaultURL + `), VOS_NODE (node name), VOS_SECRET
(cluster secret shared by all nodes; default: made in VOS_HOME), VOS_LOG (log level).`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := cli.Logger(o.logLevel)
			if err != nil {
				return err
			}
			defer log.Sync()
			if !cmd.Flags().Changed("listen") {
				if o.listen, err = cli.HostPort(cli.URL()); err != nil {
					return err
				}
			}
			n, err := kernel.Start(kernel.Options{
				Name: o.name, Home: o.home, Listen: o.listen, ClusterListen: o.cluster,
				Routes: o.routes, NATSURL: o.nats, Log: log, Replicas: o.replicas,
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, "vosd:", err)
				return err
			}
			fmt.Fprintf(os.Stderr, "vosd: node %s up at %s (home %s)\n", n.Name(), n.URL(), o.home)
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
			s := <-sig
			fmt.Fprintf(os.Stderr, "vosd: %v: stopping\n", s)
			n.Shutdown()
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "name", cli.DefaultNodeName(), "node name, unique in the cluster (VOS_NODE)")
	f.StringVar(&o.home, "home", cli.Home(), "data directory (VOS_HOME)")
	f.StringVar(&o.listen, "listen", "", "NATS client address HOST:PORT (default: from VOS_URL)")
	f.StringVar(&o.cluster, "cluster", "", "NATS route address HOST:PORT, to cluster with other nodes")
	f.StringSliceVar(&o.routes, "routes", nil, "peer route URLs nats://HOST:PORT, comma separated")
	f.StringVar(&o.nats, "nats", "", "use this existing NATS (URL) instead of an embedded server")
	f.IntVar(&o.replicas, "replicas", 1, "JetStream replicas for VOS state (3 in a cluster of 3 or more)")
	f.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error (VOS_LOG; default warn)")
	return cmd
}
