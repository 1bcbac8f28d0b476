package kernel

import (
	"sort"
	"strings"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/manifest"
)

// place chooses a node for every role of a new instance: the manifest's
// choice where it makes one, else the candidate node running the fewest
// servers, so one instance's servers spread over its nodes.
func (n *Node) place(spec *manifest.Manifest, live []string) (map[string]Placement, error) {
	isLive := map[string]bool{}
	for _, l := range live {
		isLive[l] = true
	}
	var candidates []string
	if len(spec.Nodes) == 0 {
		candidates = live
	} else {
		for _, c := range spec.Nodes {
			if isLive[c] {
				candidates = append(candidates, c)
			}
		}
	}
	if len(candidates) == 0 {
		return nil, ipc.Errorf(ipc.EHOSTDOWN, "none of the instance's nodes (%s) is up", strings.Join(spec.Nodes, ", "))
	}
	load := n.serverCounts()
	now := time.Now()
	out := map[string]Placement{}
	for _, role := range ipc.Roles {
		if node := spec.Servers[role].Node; node != "" {
			if !isLive[node] {
				return nil, ipc.Errorf(ipc.EHOSTDOWN, "servers.%s.node: node %q is down", role, node)
			}
			out[role] = Placement{Node: node, Reason: "manifest", Since: now}
			load[node]++
		}
	}
	for _, role := range ipc.Roles {
		if _, ok := out[role]; ok {
			continue
		}
		node := leastLoaded(candidates, load)
		out[role] = Placement{Node: node, Reason: "auto", Since: now}
		load[node]++
	}
	return out, nil
}

// serverCounts counts the placed servers per node.
func (n *Node) serverCounts() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	load := map[string]int{}
	for _, p := range n.placements {
		load[p.Node]++
	}
	return load
}

func leastLoaded(candidates []string, load map[string]int) string {
	c := append([]string(nil), candidates...)
	sort.SliceStable(c, func(i, j int) bool {
		if load[c[i]] != load[c[j]] {
			return load[c[i]] < load[c[j]]
		}
		return c[i] < c[j]
	})
	return c[0]
}
