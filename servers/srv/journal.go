package srv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/ipc"
)

// ackTimeout bounds the wait for JetStream to acknowledge a record. Past it
// the server cannot promise durability and stops.
const ackTimeout = 10 * time.Second

// journal is a server's append-only record stream. Appends are pipelined
// (PublishAsync); the journal's own JetStream context reports every ack, so
// any number of callers can wait for any position.
type journal struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	subject string

	mu      sync.Mutex // orders appends; guards the fields below
	last    uint64     // sequence of the last record appended
	acked   uint64     // highest sequence JetStream acknowledged
	err     error      // first failure: the journal is unusable after it
	waiters []waiter
	onFail  func(error) // told of the first failure, which stops the server
}

type waiter struct {
	seq uint64
	ch  chan struct{}
}

func openJournal(ctx context.Context, nc *nats.Conn, inst, role string, replicas int, onFail func(error)) (*journal, error) {
	j := &journal{subject: ipc.JournalSubject(inst, role), onFail: onFail}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncAckHandler(j.onAck),
		jetstream.WithPublishAsyncErrHandler(j.onErr),
		jetstream.WithPublishAsyncTimeout(ackTimeout),
		jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return nil, err
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        ipc.JournalStream(inst, role),
		Subjects:    []string{ipc.JournalSubject(inst, role)},
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		Retention:   jetstream.LimitsPolicy,
		AllowDirect: true,
	})
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", ipc.JournalStream(inst, role), err)
	}
	j.js, j.stream = js, st
	return j, nil
}

// append publishes a record and returns its sequence; sync waits for it.
// The expected-last-sequence header fences the stream against a second
// writer.
func (j *journal) append(data []byte) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, j.err
	}
	if _, err := j.js.PublishAsync(j.subject, data, jetstream.WithExpectLastSequence(j.last)); err != nil {
		j.failLocked(err)
		return 0, j.err
	}
	j.last++
	return j.last, nil
}

func (j *journal) onAck(_ jetstream.JetStream, _ *nats.Msg, ack *jetstream.PubAck) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if ack.Sequence > j.acked {
		j.acked = ack.Sequence
	}
	kept := j.waiters[:0]
	for _, w := range j.waiters {
		if w.seq <= j.acked {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	j.waiters = kept
}

func (j *journal) onErr(_ jetstream.JetStream, _ *nats.Msg, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failLocked(err)
}

// Precondition: j.mu is held.
func (j *journal) failLocked(err error) {
	if j.err == nil {
		j.err = fmt.Errorf("journal append: %w", err)
		j.onFail(j.err)
	}
	for _, w := range j.waiters {
		close(w.ch)
	}
	j.waiters = nil
}

// sync waits until every record appended so far is acknowledged.
func (j *journal) sync(ctx context.Context) error {
	j.mu.Lock()
	return j.waitLocked(ctx, j.last)
}

// syncTo waits until record seq is acknowledged.
func (j *journal) syncTo(ctx context.Context, seq uint64) error {
	j.mu.Lock()
	return j.waitLocked(ctx, seq)
}

// Precondition: j.mu is held; waitLocked releases it.
func (j *journal) waitLocked(ctx context.Context, seq uint64) error {
	if j.err != nil || seq <= j.acked {
		err := j.err
		j.mu.Unlock()
		return err
	}
	ch := make(chan struct{})
	j.waiters = append(j.waiters, waiter{seq: seq, ch: ch})
	j.mu.Unlock()
	select {
	case <-ch:
		return j.failed()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *journal) failed() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

func (j *journal) position() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.last
}

// replay calls fn for every record after seq `after`, in order, and leaves
// the journal positioned after the last one.
func (j *journal) replay(ctx context.Context, after uint64, fn func(seq uint64, data []byte) error) (n uint64, err error) {
	info, err := j.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("journal info: %w", err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	j.last, j.acked = last, last
	if last <= after {
		if last < after {
			return 0, fmt.Errorf("journal ends at %d but the snapshot is at %d: journal lost", last, after)
		}
		return 0, nil
	}
	start := after + 1
	if info.State.Msgs > 0 && first > start {
		return 0, fmt.Errorf("journal starts at %d, records %d..%d are missing", first, start, first-1)
	}
	// A cluster electing leaders answers nothing for a moment: fetch
	// again from where replay got to, for a while.
	giveUp := time.Now().Add(startupRetry)
	seq := start - 1
	for seq < last {
		got, err := j.replayFrom(ctx, seq+1, last, func(s uint64, data []byte) error {
			seq = s
			n++
			return fn(s, data)
		})
		if err == nil && got == 0 { // an empty fetch: likely a leader change
			err = fmt.Errorf("journal replay stalled at %d of %d: %w", seq, last, nats.ErrTimeout)
		}
		if err == nil {
			continue
		}
		var applyErr *recordError
		if errors.As(err, &applyErr) || !transient(err) || time.Now().After(giveUp) || ctx.Err() != nil {
			return n, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n, nil
}

// recordError is a record that could not be applied: no retry helps.
type recordError struct {
	seq uint64
	err error
}

func (e *recordError) Error() string { return fmt.Sprintf("journal record %d: %v", e.seq, e.err) }
func (e *recordError) Unwrap() error { return e.err }

// replayFrom reads records from start with one consumer until last or an
// error, and says how many it got.
func (j *journal) replayFrom(ctx context.Context, start, last uint64, fn func(seq uint64, data []byte) error) (int, error) {
	cons, err := j.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   start,
	})
	if err != nil {
		return 0, fmt.Errorf("journal replay at %d: %w", start, err)
	}
	total := 0
	for seq := start - 1; seq < last; {
		batch, err := cons.Fetch(1024, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return total, fmt.Errorf("journal replay at %d: %w", seq+1, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return total, fmt.Errorf("journal replay: %w", err)
			}
			seq = meta.Sequence.Stream
			if err := fn(seq, m.Data()); err != nil {
				return total, &recordError{seq, err}
			}
			total++
			if seq >= last {
				break
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return total, fmt.Errorf("journal replay at %d: %w", seq+1, err)
		}
		if got == 0 {
			return total, nil
		}
	}
	return total, nil
}

// purge drops the records up to and including seq (a snapshot covers them).
func (j *journal) purge(ctx context.Context, seq uint64) error {
	return j.stream.Purge(ctx, jetstream.WithPurgeSequence(seq+1))
}

// snapshot is what the snapshot object holds.
type snapshot struct {
	Seq  uint64
	Data []byte
}

func snapshotStore(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.ObjectStore, error) {
	os, err := js.ObjectStore(ctx, ipc.SnapshotBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		os, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: ipc.SnapshotBucket, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			os, err = js.ObjectStore(ctx, ipc.SnapshotBucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot store: %w", err)
	}
	return os, nil
}

func loadSnapshot(ctx context.Context, os jetstream.ObjectStore, name string) (*snapshot, error) {
	data, err := os.GetBytes(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load snapshot %s: %w", name, err)
	}
	var s snapshot
	if err := ipc.Decode(data, &s); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", name, err)
	}
	return &s, nil
}

func saveSnapshot(ctx context.Context, os jetstream.ObjectStore, name string, s *snapshot) error {
	data, err := ipc.Encode(s)
	if err != nil {
		return err
	}
	_, err = os.PutBytes(ctx, name, data)
	return err
}

// DeleteState removes a server's journal and snapshot, for good (vos down).
func DeleteState(ctx context.Context, js jetstream.JetStream, inst, role string) error {
	if err := js.DeleteStream(ctx, ipc.JournalStream(inst, role)); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	os, err := js.ObjectStore(ctx, ipc.SnapshotBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Delete(ctx, ipc.SnapshotName(inst, role)); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return err
	}
	return nil
}
