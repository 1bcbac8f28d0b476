package kernel_test

import (
	"os"
	"testing"

	"github.com/vos-os/vos/kernel"
)

func TestMain(m *testing.M) {
	kernel.MaybeConfine() // this test binary is re-executed as the confinement init
	os.Exit(m.Run())
}
