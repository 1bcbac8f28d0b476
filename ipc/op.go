package ipc

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Op is a message's operation code. Each server owns a range starting at
// its base, as MINIX's PM_BASE and VFS_BASE do, so a number alone says
// which server it belongs to.
type Op uint16

// Bases of the op ranges. Common ops (status) are answered by every server.
const (
	BaseCommon Op = 0x0000
	BasePM     Op = 0x0100
	BaseFS     Op = 0x0200
	BaseMM     Op = 0x0300
	BaseNet    Op = 0x0400
	BaseSys    Op = 0x0500 // a node's system task
	BaseCtl    Op = 0x0600 // the control plane
	baseEnd    Op = 0x0700
)

// OpInfo describes one op: its name and the Go types of its request and
// reply bodies.
type OpInfo struct {
	Op   Op
	Name string
	Req  reflect.Type
	Rep  reflect.Type
}

// Def is one row of a message table, written with zero values of the
// request and reply types: Def{OpStat, "fs.stat", StatReq{}, StatRep{}}.
type Def struct {
	Op   Op
	Name string
	Req  any
	Rep  any
}

// Registry maps op codes to their message types. Duplicate ops or names
// and missing types are errors, so a mistake in a table fails at start-up
// rather than as a garbled message later.
type Registry struct {
	mu     sync.RWMutex
	byOp   map[Op]*OpInfo
	byName map[string]*OpInfo
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byOp: map[Op]*OpInfo{}, byName: map[string]*OpInfo{}}
}

// Add registers the rows, all or none.
func (r *Registry) Add(defs ...Def) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	infos := make([]*OpInfo, 0, len(defs))
	seenOp := map[Op]bool{}
	seenName := map[string]bool{}
	for _, d := range defs {
		switch {
		case d.Name == "":
			return fmt.Errorf("ipc: op %#04x has no name", uint16(d.Op))
		case d.Op >= baseEnd:
			return fmt.Errorf("ipc: op %s (%#04x) is outside every server's range", d.Name, uint16(d.Op))
		case d.Req == nil || d.Rep == nil:
			return fmt.Errorf("ipc: op %s (%#04x) is missing its request or reply type", d.Name, uint16(d.Op))
		case r.byOp[d.Op] != nil || seenOp[d.Op]:
			return fmt.Errorf("ipc: duplicate op %#04x (%s)", uint16(d.Op), d.Name)
		case r.byName[d.Name] != nil || seenName[d.Name]:
			return fmt.Errorf("ipc: duplicate op name %s", d.Name)
		}
		seenOp[d.Op], seenName[d.Name] = true, true
		req, rep := reflect.TypeOf(d.Req), reflect.TypeOf(d.Rep)
		if req.Kind() == reflect.Pointer || rep.Kind() == reflect.Pointer {
			return fmt.Errorf("ipc: op %s: register value types, not pointers", d.Name)
		}
		infos = append(infos, &OpInfo{Op: d.Op, Name: d.Name, Req: req, Rep: rep})
	}
	for _, in := range infos {
		r.byOp[in.Op] = in
		r.byName[in.Name] = in
	}
	return nil
}

// Lookup returns the op's description.
func (r *Registry) Lookup(op Op) (*OpInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	in, ok := r.byOp[op]
	return in, ok
}

// All lists the registered ops in numeric order.
func (r *Registry) All() []OpInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]OpInfo, 0, len(r.byOp))
	for _, in := range r.byOp {
		out = append(out, *in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// Ops is the registry of every op VOS knows. The message files of this
// package fill it in their init functions; a bad table panics there.
var Ops = NewRegistry()

func mustRegister(defs ...Def) {
	if err := Ops.Add(defs...); err != nil {
		panic(err)
	}
}

// Name returns the op's registered name, or its number.
func (op Op) String() string {
	if in, ok := Ops.Lookup(op); ok {
		return in.Name
	}
	return fmt.Sprintf("op%#04x", uint16(op))
}
