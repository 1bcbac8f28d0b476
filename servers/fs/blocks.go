package fs

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/ipc"
)

// BlockSize is the unit file data is stored in. A file's last block holds
// only the bytes up to its end, so small files take small messages.
const BlockSize = 128 << 10

// blockStore keeps file blocks in a JetStream KV bucket, key
// "<ino>.<block>" in hex, with an LRU cache in front. Invariant: the store
// holds no bytes of a file at or past its size, except while the file's
// I/O lock is held.
type blockStore struct {
	js     jetstream.JetStream
	kv     jetstream.KeyValue
	stream jetstream.Stream
	prefix string // "$KV.<bucket>."
	cache  *lru
}

func openBlocks(ctx context.Context, js jetstream.JetStream, inst string, replicas int, cacheBytes int64) (*blockStore, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: ipc.BlockBucket(inst), History: 1, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("block store: %w", err)
	}
	st, err := js.Stream(ctx, ipc.KVStream(ipc.BlockBucket(inst)))
	if err != nil {
		return nil, fmt.Errorf("block store: %w", err)
	}
	return &blockStore{js: js, kv: kv, stream: st, prefix: ipc.KVSubjectPrefix(ipc.BlockBucket(inst)), cache: newLRU(cacheBytes)}, nil
}

// DeleteData removes an instance's file blocks, for good (vos down).
func DeleteData(ctx context.Context, js jetstream.JetStream, inst string) error {
	err := js.DeleteKeyValue(ctx, ipc.BlockBucket(inst))
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	return err
}

func blockKey(ino, blk uint64) string {
	return strconv.FormatUint(ino, 16) + "." + strconv.FormatUint(blk, 16)
}

// get returns a block's stored bytes (nil for a hole). The slice must not
// be modified.
func (b *blockStore) get(ctx context.Context, ino, blk uint64) ([]byte, error) {
	if data, ok := b.cache.get(ino, blk); ok {
		return data, nil
	}
	e, err := b.kv.Get(ctx, blockKey(ino, blk))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		b.cache.put(ino, blk, nil)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read block %d of inode %d: %w", blk, ino, err)
	}
	data := e.Value()
	b.cache.put(ino, blk, data)
	return data, nil
}

// batch is a group of block writes and deletes published together and
// waited for together.
type batch struct {
	b       *blockStore
	futures []jetstream.PubAckFuture
	puts    []cached
}

type cached struct {
	ino, blk uint64
	data     []byte
}

func (b *blockStore) batch() *batch { return &batch{b: b} }

// put queues a block write. data must not change afterwards.
func (t *batch) put(ino, blk uint64, data []byte) error {
	f, err := t.b.js.PublishAsync(t.b.prefix+blockKey(ino, blk), data)
	if err != nil {
		return fmt.Errorf("write block %d of inode %d: %w", blk, ino, err)
	}
	t.futures = append(t.futures, f)
	t.puts = append(t.puts, cached{ino, blk, data})
	return nil
}

// del queues a block removal.
func (t *batch) del(ino, blk uint64) error {
	m := nats.NewMsg(t.b.prefix + blockKey(ino, blk))
	m.Header.Set("KV-Operation", "PURGE") // as KeyValue.Purge: drop the block's history too
	m.Header.Set("Nats-Rollup", "sub")
	f, err := t.b.js.PublishMsgAsync(m)
	if err != nil {
		return fmt.Errorf("delete block %d of inode %d: %w", blk, ino, err)
	}
	t.futures = append(t.futures, f)
	t.puts = append(t.puts, cached{ino, blk, nil})
	return nil
}

// wait waits for every queued write, then updates the cache. On failure
// the cache forgets the blocks, since what the store holds is unknown.
func (t *batch) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var first error
	for _, f := range t.futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if first == nil {
				first = err
			}
		case <-ctx.Done():
			if first == nil {
				first = fmt.Errorf("block store: %w", ctx.Err())
			}
		}
	}
	for _, p := range t.puts {
		if first != nil {
			t.b.cache.drop(p.ino, p.blk)
		} else {
			t.b.cache.put(p.ino, p.blk, p.data)
		}
	}
	return first
}

// maxBatch bounds the block writes in flight in one batch.
const maxBatch = 1024

// spill waits for the queued changes once maxBatch of them are in flight,
// and starts afresh: a long run of changes does not pile up.
func (t *batch) spill(ctx context.Context) error {
	if len(t.futures) < maxBatch {
		return nil
	}
	err := t.wait(ctx)
	t.futures, t.puts = nil, nil
	return err
}

// stored lists the blocks of an inode that the store holds.
func (b *blockStore) stored(ctx context.Context, ino uint64) ([]uint64, error) {
	prefix := b.prefix + strconv.FormatUint(ino, 16) + "."
	info, err := b.stream.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return nil, fmt.Errorf("list blocks of inode %d: %w", ino, err)
	}
	out := make([]uint64, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		if blk, err := strconv.ParseUint(strings.TrimPrefix(subj, prefix), 16, 64); err == nil {
			out = append(out, blk)
		}
	}
	return out, nil
}

// purgeAll removes every block of an inode with one stream purge.
func (b *blockStore) purgeAll(ctx context.Context, ino uint64) error {
	err := b.stream.Purge(ctx, jetstream.WithPurgeSubject(b.prefix+strconv.FormatUint(ino, 16)+".>"))
	b.cache.dropInode(ino)
	return err
}

func (b *blockStore) cached() int64 { return b.cache.bytes() }

// maxCacheItems bounds the cache's entries, holes (cached as nil) included.
const maxCacheItems = 1 << 18

// lru is a block cache bounded in bytes. Holes are cached as nil.
type lru struct {
	mu    sync.Mutex
	max   int64
	size  int64
	order *list.List // front: most recent
	items map[[2]uint64]*list.Element
	byIno map[uint64]map[uint64]bool
}

type lruItem struct {
	key  [2]uint64
	data []byte
}

func newLRU(max int64) *lru {
	return &lru{max: max, order: list.New(), items: map[[2]uint64]*list.Element{}, byIno: map[uint64]map[uint64]bool{}}
}

func (c *lru) get(ino, blk uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[[2]uint64{ino, blk}]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruItem).data, true
}

func (c *lru) put(ino, blk uint64, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := [2]uint64{ino, blk}
	if e, ok := c.items[key]; ok {
		it := e.Value.(*lruItem)
		c.size += int64(len(data) - len(it.data))
		it.data = data
		c.order.MoveToFront(e)
	} else {
		c.items[key] = c.order.PushFront(&lruItem{key: key, data: data})
		c.size += int64(len(data))
		if c.byIno[ino] == nil {
			c.byIno[ino] = map[uint64]bool{}
		}
		c.byIno[ino][blk] = true
	}
	for (c.size > c.max || c.order.Len() > maxCacheItems) && c.order.Len() > 1 {
		c.removeLocked(c.order.Back())
	}
}

func (c *lru) removeLocked(e *list.Element) {
	it := e.Value.(*lruItem)
	c.order.Remove(e)
	delete(c.items, it.key)
	c.size -= int64(len(it.data))
	if m := c.byIno[it.key[0]]; m != nil {
		delete(m, it.key[1])
		if len(m) == 0 {
			delete(c.byIno, it.key[0])
		}
	}
}

func (c *lru) drop(ino, blk uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[[2]uint64{ino, blk}]; ok {
		c.removeLocked(e)
	}
}

func (c *lru) dropInode(ino uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for blk := range c.byIno[ino] {
		if e, ok := c.items[[2]uint64{ino, blk}]; ok {
			c.removeLocked(e)
		}
	}
}

func (c *lru) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
