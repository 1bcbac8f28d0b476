package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/manifest"
)

// The cluster state lives in JetStream KV buckets (ipc.Bucket*). Values
// are JSON so that an operator can read them with any NATS tool.

// NodeRecord is a node as its heartbeat describes it.
type NodeRecord struct {
	Name    string
	URL     string
	PID     int
	Started time.Time
	Load    float64
	MemUsed uint64
	Leaving bool `json:",omitempty"` // its last word: it is shutting down
}

// InstanceRecord is a launched instance.
type InstanceRecord struct {
	Name     string
	File     string
	Manifest []byte // the YAML as given
	Spec     *manifest.Manifest
	Created  time.Time
	State    string // up, deleting
	// Incarnation is made at vos up: credentials of an earlier instance of
	// the same name are not this one's.
	Incarnation string
	// IDBase is the first host id of the instance's range (ipc.HostIDBase…).
	IDBase uint32
}

// Placement says which node should run a server, and why.
type Placement struct {
	Node   string
	Reason string // manifest, auto, failover, migrate
	Since  time.Time
	From   string `json:",omitempty"` // the node it moved from
}

// ServerRecord is what the hosting node reports of a server.
type ServerRecord struct {
	Node      string
	State     string // starting, running, restarting, stopped
	Started   time.Time
	Restarts  int
	LastError string
	Events    []Event
}

// Event is one thing that happened to a server, kept for topology.
type Event struct {
	Time time.Time
	What string
	Node string
	Note string
}

const maxEvents = 20

func (r *ServerRecord) addEvent(what, node, note string) {
	r.Events = append(r.Events, Event{Time: time.Now(), What: what, Node: node, Note: note})
	if len(r.Events) > maxEvents {
		r.Events = r.Events[len(r.Events)-maxEvents:]
	}
}

func serverKey(inst, role string) string { return inst + "." + role }

// store is typed access to the buckets.
type store struct {
	nodes, instances, placement, servers, lease, ids jetstream.KeyValue
}

func openStore(ctx context.Context, js jetstream.JetStream, replicas int) (*store, error) {
	open := func(name string, ttl time.Duration) (jetstream.KeyValue, error) {
		kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: name, History: 1, TTL: ttl, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
		})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		return kv, nil
	}
	var s store
	var err error
	if s.nodes, err = open(ipc.BucketNodes, 0); err != nil {
		return nil, err
	}
	if s.instances, err = open(ipc.BucketInstances, 0); err != nil {
		return nil, err
	}
	if s.placement, err = open(ipc.BucketPlacement, 0); err != nil {
		return nil, err
	}
	if s.servers, err = open(ipc.BucketServers, 0); err != nil {
		return nil, err
	}
	if s.ids, err = open(ipc.BucketIDs, 0); err != nil {
		return nil, err
	}
	if s.lease, err = open(ipc.BucketLease, 0); err != nil {
		return nil, err
	}
	return &s, nil
}

func put(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = kv.Put(ctx, key, data)
	return err
}

// get reads key into v; found is false when the key does not exist.
func get(ctx context.Context, kv jetstream.KeyValue, key string, v any) (found bool, err error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(e.Value(), v)
}

// list reads every value of a bucket with the time it was last written.
func list[T any](ctx context.Context, kv jetstream.KeyValue) (map[string]T, map[string]time.Time, error) {
	out, times := map[string]T{}, map[string]time.Time{}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	for k := range keys.Keys() {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, nil, err
		}
		var v T
		if err := json.Unmarshal(e.Value(), &v); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k], times[k] = v, e.Created()
	}
	return out, times, nil
}

func unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// noInstance is the error for a name no instance has.
func noInstance(name string) error {
	return ipc.Errorf(ipc.ENOENT, "no instance %q (vos ls lists them)", name)
}

// loadInstance reads an instance's record from the cluster state, or
// fails with ENOENT naming it.
func (n *Node) loadInstance(ctx context.Context, name string) (*InstanceRecord, error) {
	rec := new(InstanceRecord)
	found, err := get(ctx, n.st.instances, name, rec)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noInstance(name)
	}
	return rec, nil
}

// allocIDs reserves a host id range for an instance: the first free slot,
// taken by creating its key (which fails if another node took it first).
func (n *Node) allocIDs(ctx context.Context, inst string) (uint32, error) {
	used := map[string]bool{}
	if keys, err := n.st.ids.ListKeys(ctx); err == nil {
		for k := range keys.Keys() {
			used[k] = true
		}
	}
	for k := 0; k < ipc.IDSlots; k++ {
		key := fmt.Sprintf("slot.%d", k)
		if used[key] {
			continue
		}
		if _, err := n.st.ids.Create(ctx, key, []byte(inst)); err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			return 0, fmt.Errorf("allocate host ids: %w", err)
		}
		return uint32(ipc.HostIDBase + k*ipc.IDRange), nil
	}
	return 0, ipc.Errorf(ipc.ENOSPC, "no free host id range (%d instances)", ipc.IDSlots)
}

// freeIDs releases an instance's host id range.
func (n *Node) freeIDs(ctx context.Context, base uint32) error {
	if base < ipc.HostIDBase {
		return nil
	}
	return n.st.ids.Purge(ctx, fmt.Sprintf("slot.%d", (base-ipc.HostIDBase)/ipc.IDRange))
}
