// Command vos is the VOS user tool: it launches instances from manifests,
// lists them and the cluster's nodes, and shows an instance's server
// topology. With no node running, vos up starts one in the background.
//
//	vos up FILE          launch an instance
//	vos down NAME        remove it and its state
//	vos ls               list instances
//	vos node ls          list nodes
//	vos topology NAME    servers, nodes, state, rates and latency
//	vos mount NAME DIR   mount an instance's filesystem (FUSE, foreground)
//	vos umount DIR       unmount it
//	vos cp [-r] SRC DST  copy between the host and NAME:/path
//
// VOS_HOME and VOS_URL choose the node and its data directory.
package main

import (
	"fmt"
	"os"

	"github.com/vos-os/vos/tools/internal/cli"
)

func main() {
	err := rootCommand().Execute()
	if err != nil {
		if _, ok := err.(cli.ExitError); !ok {
			fmt.Fprintln(os.Stderr, "vos:", err)
		}
		os.Exit(cli.Code(err))
	}
}
