package pod_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/vos-os/vos/kernel/pod"
)

// BenchmarkPodCreate measures Start (cgroup, namespaces, root, hardening,
// init ready); Destroy is outside the timer.
func BenchmarkPodCreate(b *testing.B) {
	requirePods(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := newConfig(b, "bench")
		b.StartTimer()
		p, err := pod.Start(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := p.Destroy(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkPodStartWaitTrue is entering a running pod: /bin/true started
// by its init, waited for through its exit report.
func BenchmarkPodStartWaitTrue(b *testing.B) {
	requirePods(b)
	p := startPod(b, newConfig(b, "benchexec"))
	c := &pod.Cmd{Argv: []string{"/bin/true"}}
	var started time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		pr, err := p.Start(c)
		started += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if ex := pr.Wait(); ex.Code != 0 {
			b.Fatalf("/bin/true: %+v", ex)
		}
	}
	// Start returns once the exec succeeded (Go's ForkExec waits for it).
	b.ReportMetric(float64(started.Microseconds())/float64(b.N), "start-µs/op")
}

// BenchmarkHostForkExecTrue is the baseline: /bin/true from this process.
func BenchmarkHostForkExecTrue(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
