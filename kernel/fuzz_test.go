package kernel_test

import (
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
)

// FuzzServers sends mutated requests of every registered op to every
// server of a running instance: each must answer (with an error or not),
// and none may crash, which would show as a restart.
func FuzzServers(f *testing.F) {
	for _, in := range ipc.Ops.All() {
		body, _ := ipc.Encode(reflect.New(in.Req).Interface())
		f.Add(uint16(in.Op), body)
	}
	// mm.reserve with a huge negative size.
	f.Add(uint16(ipc.OpMMReserve), []byte{0x82, 0xa3, 'P', 'I', 'D', 0x01, 0xa5, 'B', 'y', 't', 'e', 's', 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0})
	node := startNode(f, "n1")
	up(f, node, "name: fz\n")
	waitRunning(f, node, "fz")
	nc := node.Conn().NATS()
	f.Fuzz(func(t *testing.T, op uint16, body []byte) {
		data, err := ipc.EncodeRequest(ipc.Op(op), nil, msgpack.RawMessage(body))
		if err != nil {
			return
		}
		for _, role := range ipc.Roles {
			m, err := nc.Request(ipc.ServerEndpoint("fz", role).Subject(ipc.CallerKernel), data, testutil.Patience)
			if err != nil {
				t.Fatalf("%s did not answer op %#x: %v", role, op, err)
			}
			if _, _, _, err := ipc.DecodeReply(m.Data); err != nil {
				t.Fatalf("%s answered garbage: %v", role, err)
			}
		}
		for _, s := range topology(t, node, "fz").Servers {
			if s.Restarts != 0 {
				t.Fatalf("%s crashed on op %#x body %x: %s", s.Role, op, body, s.LastError)
			}
		}
	})
}
