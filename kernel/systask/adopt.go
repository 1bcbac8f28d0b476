package systask

import (
	"context"
	"slices"
	"syscall"
	"time"

	"github.com/vos-os/vos/ipc"
	"go.uber.org/zap"
)

// Programs fork: a shell's background job, a build's compilers. PM knows
// only the processes it started, so the system task watches each pod's
// process list and tells PM of the others (pm.adopt), which gives each a
// VOS pid under its parent's; `vos ps`, kill and wait then treat them as
// any process. A watched process that ends is told to PM too: with its
// status when the pod's init reaped it (an orphan), as exit 0 when its own
// parent reaped it (that parent got the status, as on Linux).

// adoptEvery is how often a pod's processes are looked at; adoptMost bounds
// the adoptions of one look, so that a fork bomb (held by the pod's pids
// limit) costs PM a bounded rate of records, not a flood.
const (
	adoptEvery = 200 * time.Millisecond
	adoptMost  = 128
)

// adopted is a process PM learnt of from the pod's process list.
type adopted struct {
	vpid   int
	podPid int
	argv   []string // as last told to PM
}

// vpidOf returns the VOS pid of a pod pid, 0 for none. Precondition:
// t.mu is held.
func (t *Task) vpidOf(ip *instPod, podPid int) int {
	if a := ip.adopted[podPid]; a != nil {
		return a.vpid
	}
	for k, hp := range t.procs {
		if k.inst == ip.inst && hp.pod == ip && hp.proc.Pid == podPid {
			return k.pid
		}
	}
	return 0
}

// watchForks runs for the pod's life: it adopts new processes and ends
// adopted ones that are gone.
func (t *Task) watchForks(ip *instPod) {
	tick := time.NewTicker(adoptEvery)
	defer tick.Stop()
	for {
		select {
		case <-ip.p.Done():
			return
		case <-t.cfg.Ctx.Done():
			return
		case <-tick.C:
		}
		t.scanPod(ip)
	}
}

// podProc is a process as the pod's /proc shows it.
type podProc struct {
	pid, ppid int
	uid, gid  uint32
	argv      []string
}

// scanPod compares the pod's processes with what PM knows of.
func (t *Task) scanPod(ip *instPod) {
	// A program being started through PM shows in /proc before the system
	// task records it: no adoption from a list read while one was.
	before := ip.starts.Load()
	procs, ok := readPodProcs(ip)
	if !ok {
		return
	}
	quiet := before%2 == 0 && ip.starts.Load() == before
	seen := make(map[int]bool, len(procs))
	for _, pp := range procs {
		seen[pp.pid] = true
	}
	// Gone without the init reaping them: their parent did.
	t.mu.Lock()
	var gone []*adopted
	for pid, a := range ip.adopted {
		if !seen[pid] {
			gone = append(gone, a)
			delete(ip.adopted, pid)
		}
	}
	t.mu.Unlock()
	for _, a := range gone {
		go t.reportExit(ip.inst, a.vpid, 0, 0, "")
	}
	adoptions := 0
	// New ones, parents first (a parent's VOS pid is needed for its child);
	// adopted ones that exec'd since (a fork seen before its exec shows its
	// parent's command) have their program told again.
	for _, pp := range procs {
		t.mu.Lock()
		known := t.vpidOf(ip, pp.pid) != 0
		parent := t.vpidOf(ip, pp.ppid)
		var execd *adopted
		if a := ip.adopted[pp.pid]; a != nil && len(pp.argv) > 0 && !slices.Equal(a.argv, pp.argv) {
			a.argv = pp.argv
			execd = a
		}
		t.mu.Unlock()
		if execd != nil {
			t.tellExec(ip, execd.vpid, pp.argv)
		}
		if known || pp.pid == 1 || !quiet {
			continue
		}
		if parent == 0 && pp.ppid != 1 {
			continue // its parent is being started or adopted: next scan
		}
		if parent == 0 {
			parent = 1 // an orphan: VOS's init
		}
		if adoptions++; adoptions > adoptMost {
			return // the rest at the next look
		}
		t.adopt(ip, pp, parent)
	}
}

func (t *Task) adopt(ip *instPod, pp podProc, parent int) {
	prog := "?"
	if len(pp.argv) > 0 {
		prog = pp.argv[0]
	}
	var args []string
	if len(pp.argv) > 1 {
		args = pp.argv[1:]
	}
	ctx, cancel := context.WithTimeout(t.cfg.Ctx, 5*time.Second)
	defer cancel()
	var rep ipc.PMAdoptRep
	err := t.cfg.Conn.Call(ctx, ipc.ServerEndpoint(ip.inst, ipc.RolePM), ipc.OpPMAdopt,
		&ipc.PMAdoptReq{Node: t.cfg.Node, Parent: parent, Prog: prog, Args: args, UID: pp.uid, GID: pp.gid}, &rep)
	if err != nil {
		t.cfg.Log.Debug("adopt", zap.String("inst", ip.inst), zap.Int("pod pid", pp.pid), zap.Error(err))
		return
	}
	t.mu.Lock()
	ip.adopted[pp.pid] = &adopted{vpid: rep.PID, podPid: pp.pid, argv: pp.argv}
	t.mu.Unlock()
}

// tellExec tells PM an adopted process's new program.
func (t *Task) tellExec(ip *instPod, vpid int, argv []string) {
	ctx, cancel := context.WithTimeout(t.cfg.Ctx, 5*time.Second)
	defer cancel()
	err := t.cfg.Conn.Call(ctx, ipc.ServerEndpoint(ip.inst, ipc.RolePM), ipc.OpPMExec,
		&ipc.PMExecReq{PID: vpid, Prog: argv[0], Args: argv[1:]}, nil)
	if err != nil {
		t.cfg.Log.Debug("exec of an adopted process", zap.String("inst", ip.inst), zap.Int("pid", vpid), zap.Error(err))
	}
}

// adoptedExit is the pod's report of a process its init reaped: an
// adopted orphan's status goes to PM.
func (t *Task) adoptedExit(ip *instPod, podPid, code, sig int) {
	t.mu.Lock()
	a := ip.adopted[podPid]
	delete(ip.adopted, podPid)
	t.mu.Unlock()
	if a != nil {
		go t.reportExit(ip.inst, a.vpid, code, sig, t.killedFor(ip, sig))
	}
}

// adoptedOf finds an adopted process by VOS pid.
func (t *Task) adoptedOf(inst string, vpid int) (*instPod, *adopted) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ip := t.pods[inst]
	if ip == nil {
		return nil, nil
	}
	for _, a := range ip.adopted {
		if a.vpid == vpid {
			return ip, a
		}
	}
	return nil, nil
}

// readPodProcs lists the pod's processes, ids turned into the instance's.
func readPodProcs(ip *instPod) ([]podProc, bool) {
	hps, err := ip.p.HostProcs()
	if err != nil {
		return nil, false
	}
	out := make([]podProc, 0, len(hps))
	for _, h := range hps {
		out = append(out, podProc{pid: h.Pid, ppid: h.PPid, argv: h.Argv,
			uid: hostToInstance(h.UID, ip.idBase), gid: hostToInstance(h.GID, ip.idBase)})
	}
	return out, true
}

// hostToInstance turns a host id read in the pod's /proc into the
// instance's id.
func hostToInstance(id, base uint32) uint32 {
	if id < base || id-base >= ipc.IDRange {
		return 65534 // nobody: not one of the instance's ids
	}
	return id - base
}

// signalAdopted delivers a signal to an adopted process.
func (t *Task) signalAdopted(inst string, vpid int, sig syscall.Signal) (bool, error) {
	ip, a := t.adoptedOf(inst, vpid)
	if a == nil {
		return false, nil
	}
	if sig == 0 {
		return true, nil
	}
	return true, ip.p.Signal(a.podPid, sig)
}
