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

type row struct {
	op      ipc.Op
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
	if _, dup := t.rows[r.op]; dup {
		panic(fmt.Sprintf("srv: %s table has op %v twice", t.role, r.op))
	}
	t.rows[r.op] = r
}

// Handle adds a row. Req and Rep must be the types the ipc registry holds
// for op; a mismatch panics when the table is built, at start-up.
func Handle[Req, Rep any](t *Table, op ipc.Op, s Support, note string, h func(c *Call, req *Req) (*Rep, error)) {
	info, ok := ipc.Ops.Lookup(op)
	if !ok {
		panic(fmt.Sprintf("srv: %s table: op %#04x is not registered in ipc", t.role, uint16(op)))
	}
	if rq, rp := reflect.TypeFor[Req](), reflect.TypeFor[Rep](); rq != info.Req || rp != info.Rep {
		panic(fmt.Sprintf("srv: %s table: op %s takes %v -> %v, handler has %v -> %v",
			t.role, info.Name, info.Req, info.Rep, rq, rp))
	}
	t.add(&row{op: op, support: s, note: note, fn: func(c *Call) (any, error) {
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
	t.add(&row{op: op, support: Unsupported, note: note, fn: func(*Call) (any, error) {
		return nil, &ipc.Error{Errno: ipc.ENOSYS, Msg: fmt.Sprintf("%v is not implemented: %s", op, note)}
	}})
}

// Rows lists the table in op order.
func (t *Table) Rows() []ipc.TableRow {
	out := make([]ipc.TableRow, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, ipc.TableRow{Op: r.op, Name: r.op.String(), Support: r.support.String(), Note: r.note})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}
