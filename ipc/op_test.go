package ipc_test

import (
	"reflect"
	"testing"

	"github.com/vos-os/vos/ipc"
)

// TestOneRequestTypePerOp: every op has a request type of its own, as
// MINIX has one message struct per call, so that a handler's signature
// names its op and a field added for one op cannot leak into another.
func TestOneRequestTypePerOp(t *testing.T) {
	owner := map[reflect.Type]string{}
	for _, in := range ipc.Ops.All() {
		if prev, dup := owner[in.Req]; dup {
			t.Errorf("ops %s and %s share the request type %v", prev, in.Name, in.Req)
			continue
		}
		owner[in.Req] = in.Name
	}
	if len(owner) < 50 {
		t.Errorf("only %d ops registered: is the registry filled?", len(owner))
	}
}
