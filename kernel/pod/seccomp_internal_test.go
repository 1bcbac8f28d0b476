package pod

import (
	"slices"
	"syscall"
	"testing"

	seccomp "github.com/elastic/go-seccomp-bpf"
)

func TestSeccompPolicy(t *testing.T) {
	p, err := seccompPolicy(DefaultHardening().Capabilities)
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != seccomp.ActionErrno {
		t.Errorf("default action %v, want errno (EPERM)", p.DefaultAction)
	}
	action := map[string]seccomp.Action{}
	conditional := map[string]bool{}
	for _, g := range p.Syscalls {
		for _, n := range g.Names {
			action[n] = g.Action
		}
		for _, n := range g.NamesWithCondtions {
			conditional[n.Name] = true
			action[n.Name] = g.Action
		}
	}
	for _, n := range []string{"read", "execve", "clone", "wait4", "setuid", "ptrace"} {
		if action[n] != seccomp.ActionAllow {
			t.Errorf("%s not allowed", n)
		}
	}
	// Without CAP_SYS_ADMIN: no mount, namespace or kernel-facing calls.
	for _, n := range []string{"mount", "umount2", "unshare", "setns", "bpf", "keyctl", "add_key",
		"open_by_handle_at", "kexec_load", "init_module", "fsopen", "move_mount", "mount_setattr", "pivot_root"} {
		if _, ok := action[n]; ok {
			t.Errorf("%s has a rule (%v); Docker's profile leaves it to the EPERM default", n, action[n])
		}
	}
	// clone3 fails with ENOSYS so that libc falls back to clone, whose
	// namespace flags the filter can see.
	if action["clone3"] != seccomp.ActionErrno|seccomp.Action(syscall.ENOSYS) {
		t.Errorf("clone3: %#x, want errno ENOSYS", uint32(action["clone3"]))
	}
	for _, n := range []string{"clone", "personality", "socket"} {
		if !conditional[n] {
			t.Errorf("%s should be allowed only for some arguments", n)
		}
	}
	prog, err := p.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) > 4096 { // BPF_MAXINSNS
		t.Fatalf("filter of %d instructions", len(prog))
	}
	t.Logf("filter: %d BPF instructions, %d rules", len(prog), len(p.Syscalls))
}

func TestDefaultHardeningIsTheContainerDefault(t *testing.T) {
	h := DefaultHardening()
	if !h.NoNewPrivs || !h.Seccomp {
		t.Fatal("no_new_privs and seccomp must be on by default")
	}
	m, err := capMask(h.Capabilities)
	if err != nil || m != 0xa80425fb {
		t.Fatalf("capabilities %#x (%v), want Docker's default 0xa80425fb", m, err)
	}
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
		"/proc/scsi", "/proc/acpi", "/proc/latency_stats", "/sys/firmware"} {
		if !slices.Contains(h.MaskedPaths, p) {
			t.Errorf("%s not masked", p)
		}
	}
	for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"} {
		if !slices.Contains(h.ReadonlyPaths, p) {
			t.Errorf("%s not read-only", p)
		}
	}
}
