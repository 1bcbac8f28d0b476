package pm_test

import (
	"testing"

	"github.com/vos-os/vos/internal/vostest"
)

// Nodes started by these tests re-execute the test binary for confined
// programs; vostest.Main dispatches that.
func TestMain(m *testing.M) { vostest.Main(m) }
