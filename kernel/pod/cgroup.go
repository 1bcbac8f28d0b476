package pod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is where the hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroup is a pod's cgroup: one folder per v1 controller it limits, or
// one folder in the v2 hierarchy. The pod's init is moved into it before
// it starts anything; the node's own processes never are.
type cgroup struct {
	dirs []string
}

// cgroupV2 reports whether the machine has a v2-only hierarchy (and so no
// v1 memory and pids controllers to use).
func cgroupV2() bool {
	if _, err := os.Stat(filepath.Join(cgroupRoot, "memory")); err == nil {
		return false
	}
	_, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers"))
	return err == nil
}

// newCgroup makes the pod's cgroup with its limits.
func newCgroup(parent, name string, mem, pids int64) (*cgroup, error) {
	cg := &cgroup{}
	set := func(dir, file string, v int64) error {
		if v <= 0 {
			return nil
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatInt(v, 10)), 0); err != nil {
			return fmt.Errorf("cgroup %s: set %s: %w", dir, file, err)
		}
		return nil
	}
	if cgroupV2() {
		// Controllers must be enabled in every ancestor's subtree_control.
		p := filepath.Join(cgroupRoot, parent)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, fmt.Errorf("cgroup: %w", err)
		}
		for _, d := range []string{cgroupRoot, p} {
			_ = os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory +pids"), 0)
		}
		dir := filepath.Join(p, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cgroup: %w", err)
		}
		cg.dirs = append(cg.dirs, dir)
		if err := set(dir, "memory.max", mem); err != nil {
			cg.remove()
			return nil, err
		}
		if err := set(dir, "pids.max", pids); err != nil {
			cg.remove()
			return nil, err
		}
		return cg, nil
	}
	for _, ctl := range []struct {
		name, file string
		v          int64
	}{{"memory", "memory.limit_in_bytes", mem}, {"pids", "pids.max", pids}} {
		root := filepath.Join(cgroupRoot, ctl.name)
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
			if ctl.v > 0 {
				cg.remove()
				return nil, fmt.Errorf("cgroup: no %s controller for the pod's limit: %w", ctl.name, err)
			}
			continue
		}
		dir := filepath.Join(root, parent, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			cg.remove()
			return nil, fmt.Errorf("cgroup: %w", err)
		}
		cg.dirs = append(cg.dirs, dir)
		if err := set(dir, ctl.file, ctl.v); err != nil {
			cg.remove()
			return nil, err
		}
	}
	return cg, nil
}

// add moves a process (all its threads) into the cgroup.
func (cg *cgroup) add(pid int) error {
	for _, d := range cg.dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("cgroup %s: add init %d: %w", d, pid, err)
		}
	}
	return nil
}

// remove kills what is left in the cgroup and removes it, waiting until
// the kernel lets go of it.
func (cg *cgroup) remove() error {
	var errs []error
	for _, d := range cg.dirs {
		if err := removeCgroup(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroup empties a cgroup folder (killing its processes) and
// removes it. Dying tasks leave the cgroup asynchronously: poll.
func removeCgroup(dir string) error {
	for i := 0; ; i++ {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || i >= 2000 {
			return fmt.Errorf("cgroup %s: remove: %w", dir, err)
		}
		if data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// Cleanup removes what a previous run left under the cgroup parent (""
// means DefaultCgroupParent), and the parent itself: it kills every
// process in a pod cgroup —
// an init whose node died exits by itself, this catches the rest — and
// removes the cgroups (and stray FUSE device nodes).
func Cleanup(parent string) error {
	if parent == "" {
		parent = DefaultCgroupParent
	}
	var roots []string
	if cgroupV2() {
		roots = []string{filepath.Join(cgroupRoot, parent)}
	} else {
		roots = []string{filepath.Join(cgroupRoot, "memory", parent), filepath.Join(cgroupRoot, "pids", parent)}
	}
	var errs []error
	if strays, err := filepath.Glob(fuseDevicePrefix + "*"); err == nil {
		for _, f := range strays {
			// Named …-<node pid>: another node's may be in use.
			pid, err := strconv.Atoi(f[strings.LastIndexByte(f, '-')+1:])
			if err != nil || syscall.Kill(pid, 0) == syscall.ESRCH {
				_ = os.Remove(f)
			}
		}
	}
	for _, r := range roots {
		ents, err := os.ReadDir(r)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				if err := removeCgroup(filepath.Join(r, e.Name())); err != nil {
					errs = append(errs, err)
				}
			}
		}
		_ = os.Remove(r) // the parent too, once empty: a node leaves nothing
	}
	return errors.Join(errs...)
}

// oomKills counts the processes the kernel killed for memory in the
// cgroup: memory.oom_control's oom_kill (v1) or memory.events' (v2).
func (cg *cgroup) oomKills() int64 {
	for _, d := range cg.dirs {
		for _, f := range []string{"memory.oom_control", "memory.events"} {
			data, err := os.ReadFile(filepath.Join(d, f))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(data), "\n") {
				if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
					n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					return n
				}
			}
		}
	}
	return 0
}
