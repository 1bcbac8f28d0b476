package kernel

import (
	"strings"
	"time"
)

// reconcileEvery is the reconciler's period when nothing pokes it.
const reconcileEvery = 2 * time.Second

func (n *Node) reconcileLoop() {
	defer n.wg.Done()
	t := time.NewTicker(reconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.kick:
		case <-t.C:
		}
		n.reconcile()
	}
}

// reconcile makes the servers running here match the placements that name
// this node.
func (n *Node) reconcile() {
	type want struct {
		inst, role string
		rec        *InstanceRecord
	}
	wanted := map[string]want{}
	n.mu.Lock()
	for key, p := range n.placements {
		if p.Node != n.opts.Name {
			continue
		}
		inst, role, ok := strings.Cut(key, ".")
		rec := n.instances[inst]
		if !ok || rec == nil || rec.State != stateUp || rec.Spec == nil {
			continue
		}
		wanted[key] = want{inst, role, rec}
	}
	n.mu.Unlock()
	for _, w := range wanted {
		n.sup.ensure(w.inst, w.role, w.rec.Spec)
	}
	for key := range n.sup.running() {
		if _, ok := wanted[key]; !ok {
			go func() {
				n.sup.stop(key)
				n.poke() // a placement may have come back meanwhile
			}()
		}
	}
}
