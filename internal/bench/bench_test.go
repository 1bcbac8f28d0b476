package bench

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vos-os/vos/kernel/systask"
)

// BenchmarkVOS runs every case: go test -bench . ./internal/bench
func BenchmarkVOS(b *testing.B) {
	for _, c := range Cases() {
		name := strings.NewReplacer(" ", "_", ",", "").Replace(c.Group + "/" + c.Name)
		b.Run(name, func(b *testing.B) { Run(b, c) })
	}
}

func TestMain(m *testing.M) {
	if code, ok := systask.Reexec(); ok { // the bench node's confined programs
		os.Exit(code)
	}
	code := m.Run()
	Close()
	os.Exit(code)
}

// A case that fails or skips says why on Out (testing.Benchmark discards
// its log), its outcome is kept, and goals on a failed case are missed.
func TestOutcomes(t *testing.T) {
	var out strings.Builder
	old := Out
	Out = &out
	defer func() { Out = old }()
	for _, tc := range []struct {
		run  func(b *testing.B, rec *Recorder)
		want Outcome
		says string
	}{
		{func(b *testing.B, rec *Recorder) {}, Ran, ""},
		{func(b *testing.B, rec *Recorder) { fatalf(b, "boom %d", 1) }, Failed, "failed: boom 1"},
		{func(b *testing.B, rec *Recorder) { skip(b, "no root") }, Skipped, "skipped: no root"},
	} {
		out.Reset()
		c := Case{Group: "test", Name: tc.says, Run: tc.run}
		testing.Benchmark(func(b *testing.B) { Run(b, c) })
		if got := OutcomeOf(c); got != tc.want {
			t.Errorf("%q: outcome %d, want %d", tc.says, got, tc.want)
		}
		if !strings.Contains(out.String(), tc.says) {
			t.Errorf("%q: Out has %q", tc.says, out.String())
		}
	}
	failed := &Result{Case: Case{Group: "g", Name: "n"}, Failed: true}
	find := func(group, name string) *Result { return failed }
	for _, g := range []Goal{AtMost("t", "g", "n", time.Second), AtLeast("t", "g", "n", 1, false),
		Overhead("t", "g", "n", "n", 0.1), Succeeds("t", "g", "n")} {
		if ok, got, known := g.Check(find); ok || !known || got != "failed" {
			t.Errorf("goal on a failed case: ok %v, %q, known %v", ok, got, known)
		}
	}
	if ok, _, known := Succeeds("t", "g", "n").Check(func(string, string) *Result { return &Result{} }); !ok || !known {
		t.Error("Succeeds on a case that ran: not met")
	}
}
