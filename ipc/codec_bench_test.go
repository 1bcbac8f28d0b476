package ipc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
)

// BenchmarkCodec measures one call's encoding work on both sides.
func BenchmarkCodec(b *testing.B) {
	req := &ipc.PingReq{Data: make([]byte, 64)}
	for i := 0; i < b.N; i++ {
		data, _ := ipc.EncodeRequest(ipc.OpPing, nil, req)
		_, _, body, _ := ipc.DecodeRequest(data)
		var r ipc.PingReq
		_ = ipc.Decode(body, &r)
		rep, _ := ipc.EncodeReply(0, "", &ipc.PingRep{Data: r.Data})
		_, _, body, _ = ipc.DecodeReply(rep)
		var p ipc.PingRep
		_ = ipc.Decode(body, &p)
	}
}

func BenchmarkStats(b *testing.B) {
	var s ipc.Stats
	for i := 0; i < b.N; i++ {
		t := time.Now()
		s.Observe(100, 100, time.Since(t), false)
	}
}

// BenchmarkCallNoServer measures how fast a call learns that nobody
// serves its endpoint (NATS's no-responders): the test only checks that
// it does not wait for its timeout.
func BenchmarkCallNoServer(b *testing.B) {
	ns := testutil.NATS(b, false)
	c := ipc.NewConn(testutil.Connect(b, ns), "k")
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if err := c.Call(ctx, ep, ipc.OpPing, &ipc.PingReq{}, nil); !errors.Is(err, ipc.ErrNoServer) {
			b.Fatalf("no server: %v", err)
		}
	}
}
