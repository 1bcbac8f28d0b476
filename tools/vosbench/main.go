// Command vosbench runs VOS's benchmarks (package internal/bench), each
// beside its baseline in the same process, and prints one table per group
// with p50, p99, throughput and the ratio to the baseline, followed by the
// goals the issues set and whether this run met them. make bench runs it.
//
//	vosbench [-run REGEXP] [-benchtime 1s] [-cpuprofile FILE]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/bench"
	"github.com/vos-os/vos/kernel/systask"
	"github.com/vos-os/vos/tools/internal/cli"
)

func main() {
	// The bench node re-executes this binary as the init of confined programs.
	if code, ok := systask.Reexec(); ok {
		os.Exit(code)
	}
	testing.Init()
	run := flag.String("run", "", "only cases whose group or name matches this regexp")
	benchtime := flag.String("benchtime", "1s", "time (or Nx count) per case")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file (the bench node runs in this process; go tool pprof reads it)")
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
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "vosbench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	defer bench.Close()
	// Interrupted, it still unmounts its file systems and stops its nodes.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		bench.Close()
		os.Exit(130)
	}()
	bench.Out = os.Stdout // why a case failed or skipped, above its row
	fmt.Printf("VOS benchmarks, %s, %s, %d CPUs\n", time.Now().Format(time.DateTime), runtime.Version(), runtime.NumCPU())
	var results []bench.Result
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
		switch o := bench.OutcomeOf(c); {
		case o == bench.Skipped:
			fmt.Printf("  %-52s skipped (see above)\n", c.Name)
			continue
		case o == bench.Failed || r.N == 0:
			fmt.Printf("  %-52s FAILED (see above)\n", c.Name)
			results = append(results, bench.Result{Case: c, Failed: true})
			continue
		}
		res := bench.Result{Case: c, NsPerOp: float64(r.T.Nanoseconds()) / float64(r.N),
			P50: time.Duration(r.Extra["p50-ns"]), P99: time.Duration(r.Extra["p99-ns"]), Max: time.Duration(r.Extra["max-ns"]),
			PerSec: r.Extra["calls/s"], MBPerSec: r.Extra["MB/s"]}
		results = append(results, res)
		printRow(res, baselineOf(results, c))
	}
	fmt.Println()
	printGoals(results)
}

func baselineOf(rs []bench.Result, c bench.Case) *bench.Result {
	for i := range rs {
		if rs[i].Case.Group == c.Group && rs[i].Case.Baseline && !rs[i].Failed {
			return &rs[i]
		}
	}
	return nil
}

func printRow(r bench.Result, base *bench.Result) {
	vs := "" // a group without a baseline
	switch {
	case r.Case.Baseline:
		vs = "baseline"
	case base != nil:
		vs = fmt.Sprintf("%+.0f%% time/op", 100*(r.NsPerOp/base.NsPerOp-1))
	}
	rate := fmt.Sprintf("%9.0f ops/s", r.PerSec)
	if r.MBPerSec > 0 {
		rate = fmt.Sprintf("%9.0f MB/s ", r.MBPerSec)
	}
	fmt.Printf("  %-52s p50 %-9s p99 %-9s max %-9s %s  %s\n", r.Case.Name, cli.Duration(r.P50), cli.Duration(r.P99), cli.Duration(r.Max), rate, vs)
}

func printGoals(rs []bench.Result) {
	find := func(group, name string) *bench.Result {
		for i := range rs {
			if strings.Contains(rs[i].Case.Group, group) && strings.Contains(rs[i].Case.Name, name) {
				return &rs[i]
			}
		}
		return nil
	}
	fmt.Println("== Goals")
	for _, g := range bench.Goals() {
		ok, got, known := g.Check(find)
		switch {
		case !known:
			fmt.Printf("  %-92s not measured in this run\n", g.Text)
		case ok:
			fmt.Printf("  %-92s met     (%s)\n", g.Text, got)
		default:
			fmt.Printf("  %-92s MISSED  (%s)\n", g.Text, got)
		}
	}
}
