package pod

import (
	"encoding/binary"
	"slices"
	"testing"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

var (
	retAllow  uint32 = unix.SECCOMP_RET_ALLOW
	retEPERM         = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retENOSYS        = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
)

// filterVM runs a filter over seccomp_data values in x/net/bpf's VM.
type filterVM struct {
	t  *testing.T
	vm *bpf.VM
}

func newFilterVM(t *testing.T, prog []bpf.Instruction) filterVM {
	t.Helper()
	if _, ok := prog[len(prog)-1].(bpf.RetConstant); !ok {
		t.Fatalf("filter ends with %v, not a return", prog[len(prog)-1])
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	return filterVM{t, vm}
}

// run is the filter's verdict. The VM loads words big-endian where the
// kernel loads them in native order, so each 32-bit field of
// seccomp_data is written big-endian at its native (little-endian
// layout) offset: an argument's low word first.
func (f filterVM) run(arch, nr uint32, args ...uint64) uint32 {
	f.t.Helper()
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[seccompDataNr:], nr)
	binary.BigEndian.PutUint32(b[seccompDataArch:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(b[seccompDataArgs+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[seccompDataArgs+8*i+4:], uint32(a>>32))
	}
	r, err := f.vm.Run(b)
	if err != nil {
		f.t.Fatal(err)
	}
	return uint32(r)
}

// reference is the profile's meaning, evaluated directly (as runc and
// libseccomp apply it): the first rule naming the call whose conditions
// hold (64-bit compares; ANDed, or ORed when one argument repeats) gives
// the action, else the default.
func reference(t *testing.T, prof *specs.LinuxSeccomp, nums map[string]uint32, nr uint32, args [6]uint64) uint32 {
	t.Helper()
	ret := func(a specs.LinuxSeccompAction, e *uint) uint32 {
		r, err := seccompRet(a, e)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	holds := func(c specs.LinuxSeccompArg) bool {
		a := args[c.Index]
		switch c.Op {
		case specs.OpEqualTo:
			return a == c.Value
		case specs.OpNotEqual:
			return a != c.Value
		case specs.OpLessThan:
			return a < c.Value
		case specs.OpLessEqual:
			return a <= c.Value
		case specs.OpGreaterThan:
			return a > c.Value
		case specs.OpGreaterEqual:
			return a >= c.Value
		case specs.OpMaskedEqual:
			return a&c.Value == c.ValueTwo
		}
		t.Fatalf("operator %s", c.Op)
		return false
	}
	for _, sc := range prof.Syscalls {
		if !slices.ContainsFunc(sc.Names, func(n string) bool { v, ok := nums[n]; return ok && v == nr }) {
			continue
		}
		count := map[uint]int{}
		for _, c := range sc.Args {
			count[c.Index]++
		}
		anyRepeated := slices.ContainsFunc(sc.Args, func(c specs.LinuxSeccompArg) bool { return count[c.Index] > 1 })
		match := !anyRepeated
		for _, c := range sc.Args {
			if anyRepeated {
				match = match || holds(c)
			} else {
				match = match && holds(c)
			}
		}
		if match {
			return ret(sc.Action, sc.ErrnoRet)
		}
	}
	return ret(prof.DefaultAction, prof.DefaultErrnoRet)
}

// probes are argument values around every constant the rules compare
// with, with high words that must not be mistaken for low ones.
func probes(prof *specs.LinuxSeccomp) []uint64 {
	lows := []uint64{0, 1, 2, 0xffffffff}
	for _, sc := range prof.Syscalls {
		for _, c := range sc.Args {
			for _, v := range []uint64{c.Value, c.ValueTwo, c.Value | c.ValueTwo} {
				lows = append(lows, uint64(uint32(v)), uint64(uint32(v-1)), uint64(uint32(v+1)))
			}
		}
	}
	var out []uint64
	for _, lo := range lows {
		for _, hi := range []uint64{0, 1, 56, 0xffffffff} {
			out = append(out, hi<<32|lo)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func dockerProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: DefaultHardening().Capabilities}}}
	prof, err := mobyseccomp.GetDefaultProfile(spec)
	if err != nil {
		t.Fatal(err)
	}
	return prof
}

// TestSeccompFilterIsDockersProfile: for every call number and, for the
// calls with argument rules, every probe value of every argument, the
// filter's verdict is the profile's.
func TestSeccompFilterIsDockersProfile(t *testing.T) {
	prof := dockerProfile(t)
	prog, err := seccompFilter(DefaultHardening().Capabilities)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("filter: %d BPF instructions", len(prog))
	f := newFilterVM(t, prog)
	argIndex := map[uint32][]uint{} // argument indices compared, by call
	for _, sc := range prof.Syscalls {
		for _, n := range sc.Names {
			if nr, ok := seccompNative.numbers[n]; ok {
				for _, c := range sc.Args {
					argIndex[nr] = append(argIndex[nr], c.Index)
				}
			}
		}
	}
	vals := probes(prof)
	for nr := uint32(0); nr < 1024; nr++ {
		var args [6]uint64
		if got, want := f.run(seccompNative.audit, nr, args[:]...), reference(t, prof, seccompNative.numbers, nr, args); got != want {
			t.Errorf("call %d: %#x, want %#x", nr, got, want)
		}
		for _, i := range argIndex[nr] {
			for _, v := range vals {
				args := [6]uint64{}
				args[i] = v
				if got, want := f.run(seccompNative.audit, nr, args[:]...), reference(t, prof, seccompNative.numbers, nr, args); got != want {
					t.Errorf("call %d arg%d=%#x: %#x, want %#x", nr, i, v, got, want)
				}
			}
		}
	}
}

// TestSeccompFilterVerdicts spells out what the pod's programs see.
func TestSeccompFilterVerdicts(t *testing.T) {
	prog, err := seccompFilter(DefaultHardening().Capabilities)
	if err != nil {
		t.Fatal(err)
	}
	f := newFilterVM(t, prog)
	nr := func(name string) uint32 {
		n, ok := seccompNative.numbers[name]
		if !ok {
			t.Fatalf("no call %s", name)
		}
		return n
	}
	call := func(name string, args ...uint64) uint32 { return f.run(seccompNative.audit, nr(name), args...) }
	for _, n := range []string{"read", "execve", "clone", "wait4", "setuid", "ptrace", "socketpair"} {
		if got := call(n); got != retAllow {
			t.Errorf("%s: %#x, want allowed", n, got)
		}
	}
	// Without CAP_SYS_ADMIN: no mount, namespace or kernel-facing calls.
	for _, n := range []string{"mount", "umount2", "unshare", "setns", "bpf", "keyctl", "add_key",
		"open_by_handle_at", "kexec_load", "init_module", "fsopen", "move_mount", "mount_setattr", "pivot_root"} {
		if got := call(n); got != retEPERM {
			t.Errorf("%s: %#x, want EPERM", n, got)
		}
	}
	// clone3 fails with ENOSYS so that libc falls back to clone, whose
	// namespace flags the filter can see.
	if got := call("clone3"); got != retENOSYS {
		t.Errorf("clone3: %#x, want ENOSYS", got)
	}
	if got := call("clone", unix.CLONE_NEWUSER); got != retEPERM {
		t.Errorf("clone(CLONE_NEWUSER): %#x, want EPERM", got)
	}
	if got := call("clone", unix.CLONE_VM|unix.CLONE_THREAD|unix.CLONE_SIGHAND); got != retAllow {
		t.Errorf("clone of a thread: %#x, want allowed", got)
	}
	for _, d := range []uint64{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK, unix.AF_PACKET} {
		if got := call("socket", d); got != retAllow {
			t.Errorf("socket(%d): %#x, want allowed", d, got)
		}
	}
	for _, d := range []uint64{unix.AF_VSOCK, unix.AF_INET | 1<<32} {
		if got := call("socket", d); got != retEPERM {
			t.Errorf("socket(%#x): %#x, want EPERM", d, got)
		}
	}
	for _, p := range []uint64{0, 8, 0x20000, 0x20008, 0xffffffff} {
		if got := call("personality", p); got != retAllow {
			t.Errorf("personality(%#x): %#x, want allowed", p, got)
		}
	}
	// The bug this generator fixes: with the call number not reloaded, a
	// refused argument whose high word is the number of a later-allowed
	// call was allowed.
	for h := uint64(0); h < 1024; h++ {
		if got := call("socket", unix.AF_VSOCK|h<<32); got != retEPERM {
			t.Errorf("socket(AF_VSOCK|%d<<32): %#x, want EPERM", h, got)
		}
		if got := call("personality", 0x0040000|h<<32); got != retEPERM {
			t.Errorf("personality(ADDR_NO_RANDOMIZE|%d<<32): %#x, want EPERM", h, got)
		}
	}
	// Other architectures and ABIs.
	if seccompNative.audit == unix.AUDIT_ARCH_X86_64 {
		if got := f.run(unix.AUDIT_ARCH_I386, 3); got != retEPERM { // i386 read
			t.Errorf("i386 read: %#x, want EPERM", got)
		}
		if got := f.run(unix.AUDIT_ARCH_X86_64, 0x40000000|nr("getpid")); got != retENOSYS {
			t.Errorf("x32 getpid: %#x, want ENOSYS", got)
		}
		if got := f.run(unix.AUDIT_ARCH_X86_64, 0xffffffff); got != retEPERM {
			t.Errorf("call -1: %#x, want the default, EPERM", got)
		}
	}
	if got := f.run(unix.AUDIT_ARCH_ARM, 3); got != retEPERM {
		t.Errorf("arm read: %#x, want EPERM", got)
	}
}

// TestSeccompOperators: every operator, ANDed and ORed conditions and
// blocks longer than a conditional jump reaches, against the reference.
func TestSeccompOperators(t *testing.T) {
	errno := uint(unix.EACCES)
	v := uint64(0x00000005_00000010)
	arg := func(i uint, op specs.LinuxSeccompOperator, val, two uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Op: op, Value: val, ValueTwo: two}
	}
	prof := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"read"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(0, specs.OpEqualTo, v, 0)}},
		{Names: []string{"write"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(1, specs.OpNotEqual, v, 0)}},
		{Names: []string{"open"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(2, specs.OpLessThan, v, 0)}},
		{Names: []string{"close"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(3, specs.OpLessEqual, v, 0)}},
		{Names: []string{"stat"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(4, specs.OpGreaterThan, v, 0)}},
		{Names: []string{"fstat"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{arg(5, specs.OpGreaterEqual, v, 0)}},
		{Names: []string{"lstat"}, Action: specs.ActErrno, ErrnoRet: &errno,
			Args: []specs.LinuxSeccompArg{arg(0, specs.OpMaskedEqual, 0x0000000f_000000f0, 0x00000005_00000010)}},
		// Distinct arguments: AND.
		{Names: []string{"poll"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{arg(0, specs.OpGreaterEqual, 0x10, 0), arg(1, specs.OpNotEqual, 0x11, 0)}},
		// One argument twice: OR (runc).
		{Names: []string{"lseek"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{arg(0, specs.OpLessThan, 0x10, 0), arg(0, specs.OpGreaterThan, v, 0)}},
		{Names: []string{"getpid", "getuid"}, Action: specs.ActKillProcess},
		{Names: []string{"no_such_call"}, Action: specs.ActAllow},
	}}
	// 60 rules of 5 instructions: a block past the 255 a conditional
	// jump skips.
	for i := range uint64(60) {
		prof.Syscalls = append(prof.Syscalls, specs.LinuxSyscall{Names: []string{"mmap"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{arg(2, specs.OpEqualTo, 3*i, 0)}})
	}
	// 300 unconditional calls: more than one run of compares.
	// A table of its own: the test is the same on every architecture.
	nums := map[string]uint32{}
	for i, n := range []string{"read", "write", "open", "close", "stat", "fstat", "lstat",
		"poll", "lseek", "mmap", "getpid", "getuid", "brk"} {
		nums[n] = uint32(i)
	}
	for i := range uint32(300) {
		name := "fake" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		nums[name] = 1000 + i
		prof.Syscalls = append(prof.Syscalls, specs.LinuxSyscall{Names: []string{name}, Action: specs.ActAllow})
	}
	a := seccompNative
	a.numbers = nums
	prog, err := assembleSeccomp(prof, a)
	if err != nil {
		t.Fatal(err)
	}
	f := newFilterVM(t, prog)
	vals := probes(prof)
	for _, name := range []string{"read", "write", "open", "close", "stat", "fstat", "lstat", "poll", "lseek", "mmap", "getpid", "brk"} {
		nr := nums[name]
		for i := range 6 {
			for _, x := range vals {
				var args [6]uint64
				args[i] = x
				if got, want := f.run(a.audit, nr, args[:]...), reference(t, prof, nums, nr, args); got != want {
					t.Errorf("%s arg%d=%#x: %#x, want %#x", name, i, x, got, want)
				}
			}
		}
	}
	for i := range uint32(300) {
		if got := f.run(a.audit, 1000+i); got != retAllow {
			t.Errorf("fake call %d: %#x, want allowed", 1000+i, got)
		}
	}
	if got := f.run(a.audit, 1300); got != retEPERM {
		t.Errorf("unlisted call: %#x, want EPERM", got)
	}
}

func TestSeccompRefusesWhatItCannotRender(t *testing.T) {
	for _, prof := range []*specs.LinuxSeccomp{
		{DefaultAction: specs.ActNotify},
		{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}},
		{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_FOO"}}}}},
		{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow},
			{Names: []string{"read"}, Action: specs.ActKillProcess}}},
	} {
		if _, err := assembleSeccomp(prof, seccompNative); err == nil {
			t.Errorf("%+v assembled", prof)
		}
	}
	if _, err := assembleSeccomp(&specs.LinuxSeccomp{DefaultAction: specs.ActErrno}, seccompArch{}); err == nil {
		t.Error("assembled without an architecture")
	}
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
