package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/tools/internal/cli"
)

func topologyCommand() *cobra.Command {
	var asJSON, asDot bool
	var events int
	cmd := &cobra.Command{
		Use:   "topology NAME",
		Short: "Show an instance's servers: where they run, how busy, how healthy",
		Long: `Show each server of an instance: its role, node, state, uptime, restarts,
messages, message rate, errors, p50/p99 latency, journal position and state
size, followed by recent events (starts, failures, moves).
--json prints the same for scripts; --dot a Graphviz picture (dot -Tpng).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asDot {
				return fmt.Errorf("choose one of --json and --dot")
			}
			var top ipc.CtlTopologyRep
			if err := ctl(cmd.Context(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: args[0]}, &top); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(&top)
			case asDot:
				return writeDot(out, &top)
			}
			return writeTopology(out, &top, events)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&asDot, "dot", false, "print a Graphviz DOT graph")
	cmd.Flags().IntVar(&events, "events", 5, "recent events to show per server")
	return cmd
}

func writeTopology(out io.Writer, top *ipc.CtlTopologyRep, events int) error {
	nodes := "all nodes"
	if len(top.Nodes) > 0 {
		nodes = "nodes " + strings.Join(top.Nodes, ", ")
	}
	fmt.Fprintf(out, "instance %s (%s)\n", top.Instance, nodes)
	t := cli.NewTable(out, "ROLE", "NODE", "STATE", "UPTIME", "RESTARTS", "MSGS", "RATE/S", "ERRORS", "P50", "P99", "JOURNAL", "SIZE")
	for _, s := range top.Servers {
		st := s.Status
		if st == nil {
			st = &ipc.StatusRep{}
		}
		t.Row(s.Role, dash(s.Node), s.State, cli.Duration(st.Uptime), s.Restarts, st.Stats.Msgs,
			fmt.Sprintf("%.1f", st.Stats.Rate), st.Stats.Errors, cli.Duration(st.Stats.P50), cli.Duration(st.Stats.P99),
			st.JournalSeq, cli.Bytes(st.StateSize))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if events <= 0 {
		return nil
	}
	type ev struct {
		role string
		e    ipc.TopoEvent
	}
	var all []ev
	for _, s := range top.Servers {
		for _, e := range s.Events {
			all = append(all, ev{s.Role, e})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].e.Time.Before(all[j].e.Time) })
	if len(all) > events*len(top.Servers) {
		all = all[len(all)-events*len(top.Servers):]
	}
	if len(all) == 0 {
		return nil
	}
	fmt.Fprintln(out, "\nEVENTS")
	for _, e := range all {
		note := ""
		if e.e.Note != "" {
			note = ": " + e.e.Note
		}
		fmt.Fprintf(out, "  %s  %-4s %s on %s%s\n", e.e.Time.Format(time.TimeOnly), e.role, e.e.What, e.e.Node, note)
	}
	return nil
}

// writeDot draws nodes as clusters holding their servers, each labelled
// with its state and traffic, all reachable from the instance.
func writeDot(out io.Writer, top *ipc.CtlTopologyRep) error {
	byNode := map[string][]ipc.ServerTopo{}
	for _, s := range top.Servers {
		byNode[s.Node] = append(byNode[s.Node], s)
	}
	names := make([]string, 0, len(byNode))
	for n := range byNode {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n", top.Instance)
	fmt.Fprintf(&b, "  %q [shape=ellipse, label=%q];\n", "inst", "instance "+top.Instance)
	for i, n := range names {
		label := "node " + n
		if n == "" {
			label = "unplaced"
		}
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%q;\n", i, label)
		for _, s := range byNode[n] {
			color := "darkgreen"
			if s.State != "running" {
				color = "red"
			}
			var msgs uint64
			var rate float64
			var p99 time.Duration
			if s.Status != nil {
				msgs, rate, p99 = s.Status.Stats.Msgs, s.Status.Stats.Rate, s.Status.Stats.P99
			}
			fmt.Fprintf(&b, "    %q [color=%s, label=%q];\n", s.Role, color,
				fmt.Sprintf("%s\n%s, %d restarts\n%d msgs, %.1f/s, p99 %s", s.Role, s.State, s.Restarts, msgs, rate, cli.Duration(p99)))
		}
		b.WriteString("  }\n")
	}
	for _, s := range top.Servers {
		fmt.Fprintf(&b, "  %q -> %q;\n", "inst", s.Role)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(out, b.String())
	return err
}
