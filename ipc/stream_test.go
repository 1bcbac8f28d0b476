package ipc_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
)

func TestStream(t *testing.T) {
	ns := testutil.NATS(t, false)
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	ctx := context.Background()
	const subj = "vos.t.proc.9.out"

	// A writer may open before its reader exists: it waits for it.
	opened := make(chan *ipc.StreamWriter, 1)
	go func() {
		w, err := ipc.OpenStream(ctx, c, subj, testutil.Patience)
		if err != nil {
			t.Error(err)
		}
		opened <- w
	}()
	waitPublished(t, ns, c.NATS(), 2) // the open found no reader, and retries
	select {
	case <-opened:
		t.Fatal("open returned before any reader existed")
	default:
	}
	var out testutil.Buffer
	r, err := ipc.ServeStream(testutil.Connect(t, ns), subj, &out)
	if err != nil {
		t.Fatal(err)
	}
	w1 := <-opened
	w2, err := ipc.OpenStream(ctx, c, subj, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 3*ipc.StreamChunk+5)
	if n, err := w1.Write(big); n != len(big) || err != nil {
		t.Fatalf("write %d, %v", n, err)
	}
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
		t.Fatal("end of file while a writer remains")
	default:
	}
	if _, err := w2.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	w2.Close()
	testutil.Recv(t, r.Done(), "end of file after the last writer left")
	if got := out.String(); got != string(big)+"tail" {
		t.Fatalf("read %d bytes, want %d", len(got), len(big)+4)
	}
	// The reader goes away: writers get EPIPE, and opening finds none.
	r.Close()
	if _, err := w2.Write([]byte("late")); !errors.Is(err, ipc.EPIPE) {
		t.Errorf("write after close: %v", err)
	}
	if _, err := ipc.OpenStream(ctx, c, subj, 50*time.Millisecond); !errors.Is(err, ipc.EPIPE) {
		t.Errorf("open with no reader: %v", err)
	}
}
