package srv

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/vos-os/vos/ipc"
)

// Support says how completely a row implements its op.
type Support int

const (
	Supported Support = iota
	Partial
	Unsupported
)

func (s Support) String() string {
	switch s {
	case Supported:
		return "supported"
	case Partial:
		return "partial"
	}
	return "unsupported"
}

// Who says which callers may use an op: the rows of a table are
// privileges as data, like MINIX's system.conf. The framework checks it
// before the request is decoded, so a handler never sees a caller it did
// not admit.
type Who int

const (
	// Kernel admits trusted kernel code only (the caller token
	// ipc.CallerKernel: servers, the system task, FUSE gateways, vos).
	Kernel Who = iota + 1
	// Process admits the kernel and the instance's processes (a caller
	// token that is a pid).
	Process
	// Anyone admits every caller NATS lets publish on the endpoint.
	Anyone
)

func (w Who) String() string {
	switch w {
	case Kernel:
		return "kernel"
	case Process:
		return "process"
	case Anyone:
		return "anyone"
	}
	return "nobody"
}

// Admits tells whether a caller token may use an op with this privilege.
func (w Who) Admits(caller string) bool {
	switch w {
	case Kernel:
		return caller == ipc.CallerKernel
	case Process:
		return caller == ipc.CallerKernel || ipc.IsPIDToken(caller)
	case Anyone:
		return true
	}
	return false
}

type row struct {
	op      ipc.Op
	who     Who
	support Support
	note    string
	fn      func(c *Call) (any, error)
}

// Table maps ops to handlers.
type Table struct {
	role string
	rows map[ipc.Op]*row
}

// NewTable starts the table of a server role.
func NewTable(role string) *Table {
	return &Table{role: role, rows: map[ipc.Op]*row{}}
}

func (t *Table) add(r *row) {
	if r.who < Kernel || r.who > Anyone {
		panic(fmt.Sprintf("srv: %s table: op %v says no privilege", t.role, r.op))
	}
	if _, dup := t.rows[r.op]; dup {
		panic(fmt.Sprintf("srv: %s table has op %v twice", t.role, r.op))
	}
	t.rows[r.op] = r
}

// Handle adds a row. Req and Rep must be the types the ipc registry holds
// for op; a mismatch panics when the table is built, at start-up.
// who says which callers the framework admits (see Who).
func Handle[Req, Rep any](t *Table, op ipc.Op, who Who, s Support, note string, h func(c *Call, req *Req) (*Rep, error)) {
	info, ok := ipc.Ops.Lookup(op)
	if !ok {
		panic(fmt.Sprintf("srv: %s table: op %#04x is not registered in ipc", t.role, uint16(op)))
	}
	if rq, rp := reflect.TypeFor[Req](), reflect.TypeFor[Rep](); rq != info.Req || rp != info.Rep {
		panic(fmt.Sprintf("srv: %s table: op %s takes %v -> %v, handler has %v -> %v",
			t.role, info.Name, info.Req, info.Rep, rq, rp))
	}
	t.add(&row{op: op, who: who, support: s, note: note, fn: func(c *Call) (any, error) {
		req := new(Req)
		if err := c.Decode(req); err != nil {
			return nil, &ipc.Error{Errno: ipc.EBADMSG, Msg: fmt.Sprintf("%s: %v", info.Name, err)}
		}
		rep, err := h(c, req)
		if err != nil || rep == nil {
			return nil, err
		}
		return rep, nil
	}})
}

// NotImplemented adds a row that answers ENOSYS, so the gap shows in the table.
func NotImplemented(t *Table, op ipc.Op, note string) {
	t.add(&row{op: op, who: Anyone, support: Unsupported, note: note, fn: func(*Call) (any, error) {
		return nil, &ipc.Error{Errno: ipc.ENOSYS, Msg: fmt.Sprintf("%v is not implemented: %s", op, note)}
	}})
}

// Rows lists the table in op order.
func (t *Table) Rows() []ipc.TableRow {
	out := make([]ipc.TableRow, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, ipc.TableRow{Op: r.op, Name: r.op.String(), Who: r.who.String(), Support: r.support.String(), Note: r.note})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// Role is the role the table serves.
func (t *Table) Role() string { return t.role }

// Allowed says whether caller may call op: nil, ENOSYS for an op the
// table lacks, or EPERM naming the op and the privilege it needs.
func (t *Table) Allowed(op ipc.Op, caller string) error {
	r := t.rows[op]
	if r == nil {
		return &ipc.Error{Errno: ipc.ENOSYS, Msg: fmt.Sprintf("%s has no op %v", t.role, op)}
	}
	if !r.who.Admits(caller) {
		return &ipc.Error{Errno: ipc.EPERM, Msg: fmt.Sprintf("%v is for %s callers, not %q", op, r.who, caller)}
	}
	return nil
}

// call runs the row of m's op for c, after the privilege check.
func (t *Table) call(c *Call) (any, error) {
	if err := t.Allowed(c.Op, c.Caller); err != nil {
		return nil, err
	}
	return t.rows[c.Op].fn(c)
}
