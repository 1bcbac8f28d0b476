package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// One node, the holder of a KV lease, re-places the servers of dead nodes.
// The lease is a key whose every write needs the revision the writer last
// saw (compare-and-set), so two nodes can never both take it; the holder
// renews it on every heartbeat, and any node may take it over once it has
// not been renewed for DownAfter. Placement changes are compare-and-set
// too, so even a leader that lost its lease without knowing cannot undo
// its successor's work.

const leaseKey = "leader"

// lead renews or takes the lease, and fails over dead nodes' servers
// while holding it.
func (n *Node) lead() {
	ctx, cancel := context.WithTimeout(n.ctx, n.opts.DownAfter)
	defer cancel()
	me := []byte(n.opts.Name)
	e, err := n.st.lease.Get(ctx, leaseKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		_, err = n.st.lease.Create(ctx, leaseKey, me)
	case err != nil:
	case string(e.Value()) == n.opts.Name:
		_, err = n.st.lease.Update(ctx, leaseKey, me, e.Revision())
	case time.Since(e.Created()) > n.opts.DownAfter:
		_, err = n.st.lease.Update(ctx, leaseKey, me, e.Revision())
		if err == nil {
			n.log.Info("took the lease", zap.String("from", string(e.Value())))
		}
	default:
		n.leading.Store(false)
		return
	}
	if err != nil {
		n.leading.Store(false)
		return
	}
	n.leading.Store(true)
	n.failover(ctx)
}

// failover re-places every server placed on a node that is down. It does
// nothing while this node's own heartbeat looks stale: then it is the view
// that is broken, not the other nodes.
func (n *Node) failover(ctx context.Context) {
	n.mu.Lock()
	if self, ok := n.nodes[n.opts.Name]; !ok || time.Since(self.seen) > n.opts.DownAfter {
		n.mu.Unlock()
		return
	}
	type move struct {
		key  string
		from string
		spec []string
	}
	var moves []move
	for key, p := range n.placements {
		if s, ok := n.nodes[p.Node]; ok && time.Since(s.seen) < n.opts.DownAfter {
			continue
		}
		inst, _, _ := strings.Cut(key, ".")
		rec := n.instances[inst]
		if rec == nil || rec.State != stateUp || rec.Spec == nil {
			continue
		}
		moves = append(moves, move{key, p.Node, rec.Spec.Nodes})
	}
	n.mu.Unlock()
	if len(moves) == 0 {
		return
	}
	live := n.liveNodes()
	for _, m := range moves {
		cands := live
		if len(m.spec) > 0 {
			cands = intersect(m.spec, live)
		}
		if len(cands) == 0 {
			n.log.Warn("no live node to fail over to", zap.String("server", m.key), zap.String("from", m.from))
			continue
		}
		to := leastLoaded(cands, n.serverCounts())
		if err := n.replace(ctx, m.key, m.from, to, "failover"); err != nil {
			n.log.Warn("failover", zap.String("server", m.key), zap.Error(err))
			continue
		}
		n.log.Warn("failed over", zap.String("server", m.key), zap.String("from", m.from), zap.String("to", to))
	}
}

// replace moves a placement from one node to another, if it still names
// the first (compare-and-set on the key's revision).
func (n *Node) replace(ctx context.Context, key, from, to, reason string) error {
	e, err := n.st.placement.Get(ctx, key)
	if err != nil {
		return err
	}
	var p Placement
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return err
	}
	if p.Node != from {
		return nil // someone moved it already
	}
	data, err := json.Marshal(&Placement{Node: to, Reason: reason, Since: time.Now(), From: from})
	if err != nil {
		return err
	}
	_, err = n.st.placement.Update(ctx, key, data, e.Revision())
	return err
}

func intersect(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if in[x] {
			out = append(out, x)
		}
	}
	return out
}
