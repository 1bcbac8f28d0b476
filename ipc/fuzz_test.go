package ipc_test

import (
	"reflect"
	"testing"

	"github.com/vos-os/vos/ipc"
)

// FuzzDecode feeds arbitrary bytes to the envelope decoders and then to
// every registered message type, request and reply: malformed input must
// come back as an error, never a panic.
func FuzzDecode(f *testing.F) {
	for _, in := range ipc.Ops.All() {
		req, _ := ipc.EncodeRequest(in.Op, &ipc.Cred{UID: 1, Groups: []uint32{2}}, reflect.New(in.Req).Interface())
		f.Add(req)
		rep, _ := ipc.EncodeReply(ipc.ENOENT, "why", reflect.New(in.Rep).Interface())
		f.Add(rep)
	}
	f.Add([]byte{0x93, 0xcd, 0xff, 0xff, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff}) // huge array length
	f.Add([]byte{0x93, 0x01, 0xc0, 0xdb, 0xff, 0xff, 0xff, 0xff})             // huge string length
	ops := ipc.Ops.All()
	f.Fuzz(func(t *testing.T, data []byte) {
		if op, _, body, err := ipc.DecodeRequest(data); err == nil {
			if in, ok := ipc.Ops.Lookup(op); ok {
				_ = ipc.Decode(body, reflect.New(in.Req).Interface())
			}
		}
		if _, _, body, err := ipc.DecodeReply(data); err == nil {
			for _, in := range ops {
				_ = ipc.Decode(body, reflect.New(in.Rep).Interface())
			}
		}
		for _, in := range ops {
			_ = ipc.Decode(data, reflect.New(in.Req).Interface())
		}
	})
}

func TestWellFormedBounds(t *testing.T) {
	cases := map[string][]byte{
		"str32 claims 3 GB":        {0x93, 0xcd, 0x00, 0x02, 0xa3, 'w', 'h', 'y', 0x81, 0xa3, 'P', 'o', 'r', 0xc6, 0xc6, 0xc6, 0xc6, 0xc6},
		"array32 claims 4G items":  {0x93, 0x01, 0xc0, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01},
		"map16 longer than data":   {0x93, 0x01, 0xc0, 0xde, 0x00, 0x10, 0x01, 0x01},
		"trailing bytes":           {0x93, 0x01, 0xc0, 0xc0, 0x00},
		"truncated uint":           {0x93, 0xcd, 0x01},
		"reserved code":            {0x93, 0x01, 0xc0, 0xc1},
		"nested deeper than limit": append(bytesOf(0x91, 40), 0x01),
	}
	for name, data := range cases {
		if _, _, _, err := ipc.DecodeRequest(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good, _ := ipc.EncodeRequest(ipc.OpPing, nil, &ipc.PingReq{Data: make([]byte, 1<<20)})
	if _, _, body, err := ipc.DecodeRequest(good); err != nil || len(body) < 1<<20 {
		t.Errorf("a 1 MiB body was refused: %v", err)
	}
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}
