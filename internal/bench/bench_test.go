package bench

import (
	"os"
	"strings"
	"testing"

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
