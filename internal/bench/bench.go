// Package bench holds VOS's benchmarks, each beside the baseline it is
// judged against, so that both run in the same process on the same
// machine: `go test -bench` runs them, and tools/vosbench (make bench)
// prints them as a table with latency quantiles and the goals.
package bench

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Case is one benchmark.
type Case struct {
	Group    string // the table it belongs to
	Name     string
	Baseline bool // the thing the others in its group are compared to
	Callers  int  // concurrent callers (1 = sequential)
	// Ops is how many operations one b.N iteration does (default 1), for
	// the ops/s column.
	Ops int
	Run func(b *testing.B, rec *Recorder)
}

// Recorder collects per-call latencies for exact quantiles.
type Recorder struct {
	mu   sync.Mutex
	lats []time.Duration
}

// Lane is one caller's private latency log.
type Lane struct {
	r    *Recorder
	lats []time.Duration
}

// Lane returns a new lane; Done merges it.
func (r *Recorder) Lane() *Lane { return &Lane{r: r, lats: make([]time.Duration, 0, 1024)} }

// Add records one call's latency.
func (l *Lane) Add(d time.Duration) { l.lats = append(l.lats, d) }

// Done merges the lane into its recorder.
func (l *Lane) Done() {
	l.r.mu.Lock()
	l.r.lats = append(l.r.lats, l.lats...)
	l.r.mu.Unlock()
}

// Quantile returns the q quantile of everything recorded.
func (r *Recorder) Quantile(q float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lats) == 0 {
		return 0
	}
	sort.Slice(r.lats, func(i, j int) bool { return r.lats[i] < r.lats[j] })
	i := int(q * float64(len(r.lats)-1))
	return r.lats[i]
}

// Reset forgets what was recorded (between benchmark rounds).
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.lats = r.lats[:0]
	r.mu.Unlock()
}

// Parallel runs call b.N times over `callers` goroutines, timing each call.
// setup gives each caller its own state (a connection, a file).
func Parallel[T any](b *testing.B, rec *Recorder, callers int, setup func(i int) T, call func(T) error) {
	states := make([]T, callers)
	for i := range states {
		states[i] = setup(i)
	}
	var next atomic.Int64
	var failed atomic.Value
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lane := rec.Lane()
			defer lane.Done()
			st := states[i]
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := call(st); err != nil {
					failed.Store(err)
					return
				}
				lane.Add(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		fatal(b, err)
	}
}

var (
	casesMu sync.Mutex
	cases   []Case
	closers []func()
)

func register(cs ...Case) {
	casesMu.Lock()
	cases = append(cases, cs...)
	casesMu.Unlock()
}

// Cases lists every benchmark in a stable order: groups in the order they
// were first registered, each group's cases together in registration
// order, so cases of one group registered from several files (libvos's
// and FUSE's sequential I/O) make one table.
func Cases() []Case {
	casesMu.Lock()
	defer casesMu.Unlock()
	first := map[string]int{}
	for i, c := range cases {
		if _, ok := first[c.Group]; !ok {
			first[c.Group] = i
		}
	}
	out := append([]Case(nil), cases...)
	sort.SliceStable(out, func(i, j int) bool { return first[out[i].Group] < first[out[j].Group] })
	return out
}

// onClose registers cleanup of shared fixtures.
func onClose(f func()) {
	casesMu.Lock()
	closers = append(closers, f)
	casesMu.Unlock()
}

// Close tears down the shared fixtures.
func Close() {
	casesMu.Lock()
	cs := closers
	closers = nil
	casesMu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// Out receives what cases say besides their numbers: why one failed or
// was skipped, and notes. testing.Benchmark (vosbench) discards a
// benchmark's own log; under go test it is in the log as well.
var Out io.Writer = io.Discard

func logf(b *testing.B, format string, args ...any) {
	b.Helper()
	msg := fmt.Sprintf(format, args...)
	b.Log(msg)
	casesMu.Lock()
	fmt.Fprintf(Out, "    %s\n", msg)
	casesMu.Unlock()
}

func fatal(b *testing.B, args ...any) {
	b.Helper()
	logf(b, "failed: %s", fmt.Sprint(args...))
	b.FailNow()
}

func fatalf(b *testing.B, format string, args ...any) {
	b.Helper()
	logf(b, "failed: "+format, args...)
	b.FailNow()
}

func skip(b *testing.B, args ...any) {
	b.Helper()
	logf(b, "skipped: %s", fmt.Sprint(args...))
	b.SkipNow()
}

// Outcome is how a case's last run ended.
type Outcome int

const (
	Ran     Outcome = iota // to its end
	Failed                 // fatal: no numbers
	Skipped                // not measurable here (say, not root)
)

var outcomes sync.Map // group and name -> Outcome

// OutcomeOf tells how the last run of a case ended.
func OutcomeOf(c Case) Outcome {
	o, _ := outcomes.Load(c.Group + "\x00" + c.Name)
	oc, _ := o.(Outcome)
	return oc
}

// Run runs one case as a benchmark and reports its quantiles.
func Run(b *testing.B, c Case) {
	defer func() { // also when the case fails or skips (runtime.Goexit)
		o := Ran
		switch {
		case b.Skipped():
			o = Skipped
		case b.Failed():
			o = Failed
		}
		outcomes.Store(c.Group+"\x00"+c.Name, o)
	}()
	rec := &Recorder{}
	c.Run(b, rec)
	b.ReportMetric(float64(rec.Quantile(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(rec.Quantile(0.99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(rec.Quantile(1).Nanoseconds()), "max-ns")
	b.ReportMetric(float64(b.N*max(c.Ops, 1))/b.Elapsed().Seconds(), "calls/s")
}

// Throughput reports MB/s for a case that moved bytes in b.Elapsed().
func Throughput(b *testing.B, bytes int64) {
	b.ReportMetric(float64(bytes)/1e6/b.Elapsed().Seconds(), "MB/s")
}

// Result is a finished case, as goals see it.
type Result struct {
	Case          Case
	NsPerOp       float64
	P50, P99, Max time.Duration
	PerSec        float64 // calls (operations) per second
	MBPerSec      float64 // for throughput cases (0 otherwise)
	Failed        bool    // the case failed: no numbers, every goal on it is missed
}

// Goal is a target an issue set, checked against a run's results.
type Goal struct {
	Text string
	// Check returns whether the goal is met and the measured value; known
	// is false when the run did not measure it.
	Check func(find Finder) (ok bool, got string, known bool)
}

// Finder returns the result whose group and name contain the given
// substrings, or nil.
type Finder func(group, name string) *Result

var goals []Goal

func registerGoal(g ...Goal) {
	casesMu.Lock()
	goals = append(goals, g...)
	casesMu.Unlock()
}

// Goals lists the goals in registration order.
func Goals() []Goal {
	casesMu.Lock()
	defer casesMu.Unlock()
	return append([]Goal(nil), goals...)
}

// Overhead is a goal that b takes at most max more time per op than a.
func Overhead(text, group, base, b string, max float64) Goal {
	return Goal{Text: text, Check: func(find Finder) (bool, string, bool) {
		rb, rv := find(group, base), find(group, b)
		if rb == nil || rv == nil {
			return false, "", false
		}
		if rb.Failed || rv.Failed {
			return false, "failed", true
		}
		o := rv.NsPerOp/rb.NsPerOp - 1
		return o <= max, fmt.Sprintf("%+.0f%%", 100*o), true
	}}
}

// AtLeast is a goal on a result's rate: per second, or MB/s when mb.
func AtLeast(text, group, name string, min float64, mb bool) Goal {
	return Goal{Text: text, Check: func(find Finder) (bool, string, bool) {
		r := find(group, name)
		if r == nil {
			return false, "", false
		}
		if r.Failed {
			return false, "failed", true
		}
		if mb {
			return r.MBPerSec >= min, fmt.Sprintf("%.0f MB/s", r.MBPerSec), true
		}
		return r.PerSec >= min, fmt.Sprintf("%.0f/s", r.PerSec), true
	}}
}

// AtMost is a goal on a result's p50 latency.
func AtMost(text, group, name string, max time.Duration) Goal {
	return Goal{Text: text, Check: func(find Finder) (bool, string, bool) {
		r := find(group, name)
		if r == nil {
			return false, "", false
		}
		if r.Failed {
			return false, "failed", true
		}
		return r.P50 <= max, r.P50.String(), true
	}}
}

// Succeeds is a goal that a case runs to its end (it checks what it
// measures, as the 1,000 live processes are), reporting its p50.
func Succeeds(text, group, name string) Goal {
	return Goal{Text: text, Check: func(find Finder) (bool, string, bool) {
		r := find(group, name)
		if r == nil {
			return false, "", false
		}
		if r.Failed {
			return false, "failed", true
		}
		return true, "p50 " + r.P50.String(), true
	}}
}
