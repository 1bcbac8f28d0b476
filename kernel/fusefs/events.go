package fusefs

import (
	"sync"
	"time"

	"github.com/vos-os/vos/ipc"
)

// Events and this mount's own changes.
//
// The FS server publishes an event for every change, this mount's own
// included, and publishes it before it replies; so the event of an own
// change usually arrives while the request is still in flight, before the
// reply says which Gen the change made. Invalidating on it would throw
// away what the kernel just cached (the pages just written, the entry just
// created) and, for a directory, contend for its lock with the next
// create. So:
//
//   - inode events (data, attributes) that arrive while an own change of
//     the same inode is in flight wait; the reply's Gen then tells whether
//     an event was the mount's own (skip) or another's (older Gen: apply
//     now). Gens of an inode only grow, so this is exact.
//   - entry events: before an own create/unlink/rename… the mount expects
//     one event for that (directory, name) and skips the first to come.
//     Were it another's change racing ours, the event of ours comes after
//     it and still invalidates, so the kernel is never left stale by a
//     skip; an expectation no event meets lapses after entryExpect.

// ownGens is how many Gens of its own changes a node remembers.
const ownGens = 8

// maxDeferred bounds the events a node holds back; beyond it the node
// just drops everything cached when its changes are answered.
const maxDeferred = 32

// entryExpect is how long an expected own entry event is waited for.
const entryExpect = 5 * time.Second

// changes is a node's record of its own changes in flight and done.
type changes struct {
	mu       sync.Mutex
	inflight int
	own      [ownGens]uint64
	next     int
	deferred []ipc.FSEvent
	overflow bool // more deferred than maxDeferred: apply a full invalidation
}

// Precondition: c.mu is held.
func (c *changes) isOwn(gen uint64) bool {
	if gen == 0 {
		return false
	}
	for _, g := range c.own {
		if g == gen {
			return true
		}
	}
	return false
}

// begin marks an own change of the inode as in flight.
func (n *node) begin() {
	n.ch.mu.Lock()
	n.ch.inflight++
	n.ch.mu.Unlock()
}

// end marks it answered, with the attributes it got back (nil when it
// failed). Events held back that were not its own are applied — from
// another goroutine, as this runs inside the FUSE request.
func (n *node) end(a *ipc.Attr) {
	var apply []ipc.FSEvent
	full := false
	c := &n.ch
	c.mu.Lock()
	c.inflight--
	var gen uint64
	if a != nil {
		gen = a.Gen
		c.own[c.next%ownGens] = gen
		c.next++
		n.kernGen.Store(gen)
		if n.cacheGen.Load() != 0 {
			n.cacheGen.Store(gen)
		}
	}
	keep := c.deferred[:0]
	for _, ev := range c.deferred {
		switch {
		case c.isOwn(ev.Gen):
		case c.inflight == 0 || ev.Gen < gen:
			apply = append(apply, ev)
		default:
			keep = append(keep, ev) // maybe the Gen of a change still in flight
		}
	}
	c.deferred = keep
	if c.overflow && c.inflight == 0 {
		full, c.overflow = true, false
	}
	c.mu.Unlock()
	if full {
		apply = append(apply, ipc.FSEvent{Kind: ipc.FSEventData, Ino: n.ino()})
	}
	if len(apply) > 0 {
		go func() {
			for i := range apply {
				n.invalidate(&apply[i])
			}
		}()
	}
}

// inodeEvent handles a data or attribute event of n.
func (n *node) inodeEvent(ev *ipc.FSEvent) {
	c := &n.ch
	c.mu.Lock()
	if c.isOwn(ev.Gen) {
		c.mu.Unlock()
		return
	}
	if c.inflight > 0 {
		if len(c.deferred) < maxDeferred {
			c.deferred = append(c.deferred, *ev)
		} else {
			c.overflow = true
		}
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	n.invalidate(ev)
}

// invalidate drops what the kernel caches of the inode: attributes, and
// for a data event every page. It must not run inside a FUSE request for
// the inode (the request may hold the pages).
func (n *node) invalidate(ev *ipc.FSEvent) {
	if ev.Kind == ipc.FSEventData {
		n.cacheGen.Store(0)
		_ = n.NotifyContent(0, 0)
		return
	}
	_ = n.NotifyContent(-1, 0) // attributes only
}

type entryKey struct {
	dir  uint64
	name string
}

type expectation struct {
	n     int
	until time.Time
}

// expect notes that an own change of dir/name is about to be sent; done
// is called with whether it happened (an event will come).
func (m *Gateway) expect(dir uint64, name string) (done func(changed bool)) {
	k := entryKey{dir, name}
	m.entMu.Lock()
	e := m.expected[k]
	e.n++
	e.until = time.Now().Add(entryExpect)
	m.expected[k] = e
	if len(m.expected) > 1024 {
		now := time.Now()
		for k, e := range m.expected {
			if now.After(e.until) {
				delete(m.expected, k)
			}
		}
	}
	m.entMu.Unlock()
	return func(changed bool) {
		if changed {
			return // its event consumes the expectation
		}
		m.entMu.Lock()
		if e, ok := m.expected[k]; ok {
			if e.n--; e.n <= 0 {
				delete(m.expected, k)
			} else {
				m.expected[k] = e
			}
		}
		m.entMu.Unlock()
	}
}

// ownEntryEvent tells whether an entry event is the awaited one of an own
// change (and consumes the expectation).
func (m *Gateway) ownEntryEvent(dir uint64, name string) bool {
	k := entryKey{dir, name}
	m.entMu.Lock()
	defer m.entMu.Unlock()
	e, ok := m.expected[k]
	if !ok {
		return false
	}
	if e.n--; e.n <= 0 || time.Now().After(e.until) {
		delete(m.expected, k)
	} else {
		m.expected[k] = e
	}
	return !time.Now().After(e.until)
}

// event handles one FS change event: it drops what the kernel caches of
// the inode or entry, unless this mount made the change itself. It runs
// on the event service's goroutine, never inside a FUSE request, so the
// kernel may take the locks the invalidation needs.
func (m *Gateway) event(msg *ipc.Msg) {
	defer msg.Respond(nil, nil)
	var ev ipc.FSEvent
	if err := msg.Decode(&ev); err != nil {
		return
	}
	n := m.lookupNode(ev.Ino)
	if n == nil {
		return // the kernel caches nothing of it
	}
	switch ev.Kind {
	case ipc.FSEventEntry:
		if m.ownEntryEvent(ev.Ino, ev.Name) {
			return
		}
		if ev.Name != "" {
			_ = n.NotifyEntry(ev.Name)
		}
		_ = n.NotifyContent(-1, 0) // the directory's mtime and nlink
	case ipc.FSEventData, ipc.FSEventAttr:
		n.inodeEvent(&ev)
	}
}
