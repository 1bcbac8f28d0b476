// Package bench holds VOS's benchmarks, each beside the baseline it is
// judged against, so that both run in the same process on the same
// machine: `go test -bench` runs them, and tools/vosbench (make bench)
// prints them as a table with latency quantiles and the goals.
package bench

import (
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
	Run      func(b *testing.B, rec *Recorder)
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
		b.Fatal(err)
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

// Cases lists every benchmark in a stable order.
func Cases() []Case {
	casesMu.Lock()
	defer casesMu.Unlock()
	return append([]Case(nil), cases...)
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

// Run runs one case as a benchmark and reports its quantiles.
func Run(b *testing.B, c Case) {
	rec := &Recorder{}
	c.Run(b, rec)
	b.ReportMetric(float64(rec.Quantile(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(rec.Quantile(0.99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
