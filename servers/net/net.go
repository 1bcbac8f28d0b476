// Package net is the network server: the instance's port table. A port
// bound by a process of the instance is bound once for the whole instance,
// whichever node the process runs on; the manifest's published ports map
// host ports of a node onto these.
package net

import (
	"fmt"
	"sort"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

const (
	recBind uint8 = iota + 1
	recUnbind
)

type bindRec struct {
	Proto string
	Port  int
	PID   int
}

type key struct {
	Proto string
	Port  int
}

// Ephemeral ports are handed out from this range, as Linux's default.
const (
	ephemeralLo = 32768
	ephemeralHi = 60999
)

// Server is the NET server.
type Server struct {
	ports map[key]int // -> pid
}

// New returns a NET server.
func New() *Server { return &Server{ports: map[key]int{}} }

// Table is NET's dispatch table.
func (n *Server) Table() *srv.Table {
	t := srv.NewTable(ipc.RoleNet)
	srv.Handle(t, ipc.OpNetBind, srv.Process, srv.Supported, "", n.bind)
	srv.Handle(t, ipc.OpNetUnbind, srv.Process, srv.Supported, "", n.unbind)
	srv.Handle(t, ipc.OpNetPorts, srv.Process, srv.Supported, "", n.list)
	return t
}

func checkProto(p string) error {
	if p != "tcp" && p != "udp" {
		return ipc.Errorf(ipc.EINVAL, "protocol %q: want tcp or udp", p)
	}
	return nil
}

func (n *Server) bind(c *srv.Call, req *ipc.NetBindReq) (*ipc.NetBindRep, error) {
	if err := checkProto(req.Proto); err != nil {
		return nil, err
	}
	if req.Port < 0 || req.Port > 65535 {
		return nil, ipc.Errorf(ipc.EINVAL, "net.bind: port %d out of range", req.Port)
	}
	s := c.Server()
	s.Lock()
	defer s.Unlock()
	port := req.Port
	if port == 0 {
		for p := ephemeralLo; p <= ephemeralHi; p++ {
			if _, used := n.ports[key{req.Proto, p}]; !used {
				port = p
				break
			}
		}
		if port == 0 {
			return nil, ipc.Errorf(ipc.EADDRINUSE, "net.bind: no free ephemeral %s port", req.Proto)
		}
	} else if pid, used := n.ports[key{req.Proto, port}]; used {
		return nil, ipc.Errorf(ipc.EADDRINUSE, "net.bind: %s port %d is bound by pid %d", req.Proto, port, pid)
	}
	if err := c.Commit(recBind, &bindRec{Proto: req.Proto, Port: port, PID: req.PID}); err != nil {
		return nil, err
	}
	return &ipc.NetBindRep{Port: port}, nil
}

func (n *Server) unbind(c *srv.Call, req *ipc.NetUnbindReq) (*ipc.NetPortsRep, error) {
	s := c.Server()
	s.Lock()
	defer s.Unlock()
	if _, ok := n.ports[key{req.Proto, req.Port}]; !ok {
		return nil, ipc.Errorf(ipc.ENOENT, "net.unbind: %s port %d is not bound", req.Proto, req.Port)
	}
	if err := c.Commit(recUnbind, &bindRec{Proto: req.Proto, Port: req.Port}); err != nil {
		return nil, err
	}
	return n.listLocked(), nil
}

func (n *Server) list(c *srv.Call, _ *ipc.NetPortsReq) (*ipc.NetPortsRep, error) {
	c.Server().RLock()
	defer c.Server().RUnlock()
	return n.listLocked(), nil
}

// Precondition: the state lock is held.
func (n *Server) listLocked() *ipc.NetPortsRep {
	out := make([]ipc.PortBinding, 0, len(n.ports))
	for k, pid := range n.ports {
		out = append(out, ipc.PortBinding{Proto: k.Proto, Port: k.Port, PID: pid})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Proto != out[j].Proto {
			return out[i].Proto < out[j].Proto
		}
		return out[i].Port < out[j].Port
	})
	return &ipc.NetPortsRep{Ports: out}
}

// NewRecord implements srv.State.
func (n *Server) NewRecord(kind uint8) any {
	if kind == recBind || kind == recUnbind {
		return new(bindRec)
	}
	return nil
}

// Apply implements srv.State.
func (n *Server) Apply(kind uint8, rec any) error {
	r := rec.(*bindRec)
	k := key{r.Proto, r.Port}
	switch kind {
	case recBind:
		if _, used := n.ports[k]; used {
			return fmt.Errorf("bind of %s port %d which is bound", r.Proto, r.Port)
		}
		n.ports[k] = r.PID
	case recUnbind:
		delete(n.ports, k)
	default:
		return fmt.Errorf("unknown record kind %d", kind)
	}
	return nil
}

// Snapshot implements srv.State.
func (n *Server) Snapshot() ([]byte, error) { return ipc.Encode(n.listLocked().Ports) }

// Restore implements srv.State.
func (n *Server) Restore(data []byte) error {
	var ps []ipc.PortBinding
	if err := ipc.Decode(data, &ps); err != nil {
		return err
	}
	n.ports = make(map[key]int, len(ps))
	for _, p := range ps {
		n.ports[key{p.Proto, p.Port}] = p.PID
	}
	return nil
}

// Size implements srv.State.
func (n *Server) Size() int64 { return int64(len(n.ports)) * 40 }

// Extra implements srv.Extraer.
func (n *Server) Extra() map[string]int64 { return map[string]int64{"ports": int64(len(n.ports))} }
