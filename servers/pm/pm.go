// Package pm is the PM server. (Filled in by its own issue; for now it
// answers the common ops: status, ping and its dispatch table.)
package pm

import (
	"fmt"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// Server is the PM server.
type Server struct{}

// New returns a PM server.
func New() *Server { return &Server{} }

// Table is PM's dispatch table.
func (*Server) Table() *srv.Table { return srv.NewTable(ipc.RolePM) }

// NewRecord implements srv.State.
func (*Server) NewRecord(uint8) any { return nil }

// Apply implements srv.State.
func (*Server) Apply(kind uint8, _ any) error { return fmt.Errorf("unknown record kind %d", kind) }

// Snapshot implements srv.State.
func (*Server) Snapshot() ([]byte, error) { return nil, nil }

// Restore implements srv.State.
func (*Server) Restore([]byte) error { return nil }

// Size implements srv.State.
func (*Server) Size() int64 { return 0 }
