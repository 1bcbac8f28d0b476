package testutil_test

import (
	"errors"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
)

func TestPoll(t *testing.T) {
	calls := 0
	testutil.Poll(t, func() error {
		if calls++; calls < 5 {
			return errors.New("not yet")
		}
		return nil
	})
	if calls != 5 {
		t.Errorf("cond called %d times, want 5 (until it held)", calls)
	}
	if err := testutil.Until(t, func() error { return nil }); err != nil {
		t.Errorf("Until with a cond that holds: %v", err)
	}
}

func TestRecv(t *testing.T) {
	ch := make(chan int)
	go func() {
		time.Sleep(10 * time.Millisecond) // the value comes later: Recv waits for it
		ch <- 7
	}()
	if v := testutil.Recv(t, ch, "the value"); v != 7 {
		t.Errorf("Recv: %d, want 7", v)
	}
}
