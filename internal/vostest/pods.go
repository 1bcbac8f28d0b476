package vostest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vos-os/vos/kernel"
)

// What a node's pods leave on the host, seen from the host: tests look
// for it after an instance went down. A node is known by its name and
// home (which name its pods' cgroup folder, kernel.CgroupParent) and the
// pid of the process it runs in (the parent of its pods' inits).

// PodProcs lists the host processes in an instance's pod on a node — every
// process in the pod's cgroup — with their argv[0].
func PodProcs(node, home, inst string) map[int]string {
	cg := kernel.CgroupParent(node, home) + "/" + inst
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || !inCgroup(pid, cg) {
			continue
		}
		out[pid] = arg0(pid)
	}
	return out
}

// PodLeftovers describes what a node left of an instance's pod: processes
// in its cgroup, its init (a child of the node's process named after the
// instance), its cgroup folders, its bus socket folder under the node's
// home, and host mounts under that home. Nothing, once the pod is gone.
func PodLeftovers(node, home, inst string, daemon int) []string {
	var left []string
	for pid, a0 := range PodProcs(node, home, inst) {
		left = append(left, fmt.Sprintf("process %d (%s) in the pod's cgroup", pid, a0))
	}
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if strings.HasPrefix(string(cmd), "vos-pod-init\x00"+inst+"\x00") && parent(pid) == daemon {
			left = append(left, fmt.Sprintf("pod init %d of %s", pid, inst))
		}
	}
	parentDir := kernel.CgroupParent(node, home)
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", parentDir, inst))
	dirs = append(dirs, filepath.Join("/sys/fs/cgroup", parentDir, inst))
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			left = append(left, "cgroup folder "+d)
		}
	}
	if _, err := os.Lstat(filepath.Join(home, "pods", inst)); err == nil {
		left = append(left, "bus socket folder "+filepath.Join(home, "pods", inst))
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.Contains(sc.Text(), home) {
				left = append(left, "host mount "+sc.Text())
			}
		}
		f.Close()
	}
	return left
}

// inCgroup tells whether a host process is in the cgroup at path (or
// under it), in any hierarchy.
func inCgroup(pid int, path string) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if p := parts[2]; strings.HasSuffix(p, "/"+path) || strings.Contains(p, "/"+path+"/") {
			return true
		}
	}
	return false
}

func arg0(pid int) string {
	cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	a, _, _ := strings.Cut(string(cmd), "\x00")
	return a
}

// parent is a host process's parent pid (0 if it is gone).
func parent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid …: comm may hold spaces and parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
