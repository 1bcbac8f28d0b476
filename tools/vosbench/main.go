// Command vosbench runs VOS's benchmarks (package internal/bench), each
// beside its baseline in the same process, and prints one table per group
// with p50, p99, throughput and the ratio to the baseline, followed by the
// goals the issues set and whether this run met them. make bench runs it.
//
//	vosbench [-run REGEXP] [-benchtime 1s]
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/bench"
	"github.com/vos-os/vos/tools/internal/cli"
)

type result struct {
	c        bench.Case
	nsPerOp  float64
	p50, p99 time.Duration
	perSec   float64
	extra    map[string]float64
}

func main() {
	testing.Init()
	run := flag.String("run", "", "only cases whose group or name matches this regexp")
	benchtime := flag.String("benchtime", "1s", "time (or Nx count) per case")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "vosbench:", err)
		os.Exit(2)
	}
	re, err := regexp.Compile(*run)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vosbench:", err)
		os.Exit(2)
	}
	defer bench.Close()
	fmt.Printf("VOS benchmarks, %s, Go %s, %d CPUs\n", time.Now().Format(time.DateTime), goVersion(), cpus())
	var results []result
	group := ""
	for _, c := range bench.Cases() {
		if !re.MatchString(c.Group + " " + c.Name) {
			continue
		}
		if c.Group != group {
			group = c.Group
			fmt.Printf("\n== %s\n", group)
		}
		r := testing.Benchmark(func(b *testing.B) { bench.Run(b, c) })
		if r.N == 0 {
			fmt.Printf("  %-52s FAILED (see above)\n", c.Name)
			continue
		}
		res := result{c: c, nsPerOp: float64(r.T.Nanoseconds()) / float64(r.N), extra: r.Extra,
			p50: time.Duration(r.Extra["p50-ns"]), p99: time.Duration(r.Extra["p99-ns"]), perSec: r.Extra["calls/s"]}
		results = append(results, res)
		printRow(res, baselineOf(results, c))
	}
	fmt.Println()
	printGoals(results)
}

func baselineOf(rs []result, c bench.Case) *result {
	for i := range rs {
		if rs[i].c.Group == c.Group && rs[i].c.Baseline {
			return &rs[i]
		}
	}
	return nil
}

func printRow(r result, base *result) {
	vs := "baseline"
	if !r.c.Baseline && base != nil {
		vs = fmt.Sprintf("%+.0f%% time/op", 100*(r.nsPerOp/base.nsPerOp-1))
	}
	unit := "calls/s"
	if mb, ok := r.extra["MB/s"]; ok {
		fmt.Printf("  %-52s p50 %-9s p99 %-9s %9.0f MB/s   %s\n", r.c.Name, cli.Duration(r.p50), cli.Duration(r.p99), mb, vs)
		return
	}
	fmt.Printf("  %-52s p50 %-9s p99 %-9s %9.0f %s  %s\n", r.c.Name, cli.Duration(r.p50), cli.Duration(r.p99), r.perSec, unit, vs)
}

func cpus() int { return runtimeCPUs() }
