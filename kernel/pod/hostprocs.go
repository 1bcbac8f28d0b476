package pod

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// HostProc is a process of the pod as the node sees it: both its pids,
// its parent's pid in the pod, its ids (host ids, as the node reads them)
// and its arguments.
type HostProc struct {
	HostPid, Pid, PPid int
	UID, GID           uint32
	Argv               []string
}

// HostProcs lists the pod's processes (its init left out) from the node's
// side: the pod's cgroup names them by host pid, /proc/PID/status gives
// their pid in the pod (NSpid). The node cannot read the pod's own /proc:
// it lies under the pod's FUSE root, which admits only the pod's user
// namespace.
func (p *Pod) HostProcs() ([]HostProc, error) {
	if len(p.cg.dirs) == 0 {
		return nil, errors.New("pod " + p.cfg.Name + " has no cgroup")
	}
	data, err := os.ReadFile(filepath.Join(p.cg.dirs[0], "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var out []HostProc
	for _, f := range strings.Fields(string(data)) {
		hp, err := strconv.Atoi(f)
		if err != nil || hp == p.init.Pid {
			continue
		}
		if pr, ok := readHostProc(hp); ok {
			out = append(out, pr)
		}
	}
	return out, nil
}

// PodPidToHost finds the host pid of a pod pid (0 if none).
func (p *Pod) PodPidToHost(pid int) int {
	procs, err := p.HostProcs()
	if err != nil {
		return 0
	}
	for _, pr := range procs {
		if pr.Pid == pid {
			return pr.HostPid
		}
	}
	return 0
}

func readHostProc(hostPid int) (HostProc, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(hostPid))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return HostProc{}, false // gone meanwhile
	}
	pr := HostProc{HostPid: hostPid}
	var hostPPid int
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "PPid:":
			hostPPid, _ = strconv.Atoi(f[1])
		case "Uid:":
			id, _ := strconv.ParseUint(f[1], 10, 32)
			pr.UID = uint32(id)
		case "Gid:":
			id, _ := strconv.ParseUint(f[1], 10, 32)
			pr.GID = uint32(id)
		case "NSpid:":
			pr.Pid, _ = strconv.Atoi(f[len(f)-1]) // the innermost: the pod's
		}
	}
	// The parent's pid in the pod, from its own NSpid.
	if pst, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(hostPPid), "status")); err == nil {
		for _, line := range strings.Split(string(pst), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "NSpid:" {
				pr.PPid, _ = strconv.Atoi(f[len(f)-1])
			}
		}
	}
	if cmd, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(cmd) > 0 {
		pr.Argv = strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
	}
	return pr, true
}
