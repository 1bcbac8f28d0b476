package pod

//go:generate go run mksysnum.go

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"unsafe"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The filter is Docker's default seccomp profile (moby/profiles/seccomp,
// the data Docker, containerd and Podman ship), resolved by moby's own
// code for the pod's bounding set and this kernel, then assembled to
// classic BPF here, in pure Go, so building VOS needs no libseccomp (some
// binaries are built with CGO_ENABLED=0).
//
// Why not a library: elastic/go-seccomp-bpf (v1.6.0, used until now)
// loads the system call number into the accumulator once and, when an
// argument check fails, falls through to the next rule with the
// argument's word still loaded, comparing it with later rules' call
// numbers (elastic/go-seccomp-bpf#49, open). socket(AF_VSOCK|56<<32) then
// went on to clone's rule (clone is call 56) and was allowed, and address
// families after the first socket rule were refused. The other pure-Go
// renderer of OCI profiles, gVisor's runsc/specutils/seccomp, comes with
// gVisor's whole untagged module; and the program is small: each rule is
// a few comparisons, and every block here starts and ends with the call
// number in the accumulator.
//
// Semantics are runc's with libseccomp: arguments are compared as 64-bit
// values (high and low words), conditions on distinct arguments are
// ANDed, several on the same argument become one rule each (runc
// #1616), rules whose action is the default are dropped, names this
// architecture lacks are skipped. Differences: only the native
// architecture is allowed (other ones get EPERM, x32 calls ENOSYS), and
// SCMP_ACT_TRACE is ENOSYS, what the kernel answers with no tracer.

// seccomp_data (linux/seccomp.h): nr, arch, instruction_pointer, args[6].
// Both supported architectures are little-endian: an argument's low word
// comes first.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
	seccompDataArgs = 16
)

// seccompArch is what the filter needs of an architecture.
type seccompArch struct {
	audit   uint32            // AUDIT_ARCH_*, seccomp_data.arch
	x32Bit  uint32            // call numbers with this bit are another ABI (x32); 0: none
	numbers map[string]uint32 // system call numbers by name
}

// seccompRule is one alternative of a call's rules: its action applies
// when every condition holds (always, with none).
type seccompRule struct {
	conds  []specs.LinuxSeccompArg
	action uint32
}

// seccompFilter is the pod's filter for the bounding set caps.
func seccompFilter(caps []string) ([]bpf.Instruction, error) {
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
	prof, err := mobyseccomp.GetDefaultProfile(spec)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	return assembleSeccomp(prof, seccompNative)
}

// assembleSeccomp renders a resolved OCI profile for one architecture.
// The program: check the architecture, load the call number, then one
// block per call number (blocks of different numbers never both match,
// so their order is free): conditional calls as a guarded block of rules
// that reloads the number when none matched, unconditional ones as runs
// of compares sharing one return; last, the default action.
func assembleSeccomp(prof *specs.LinuxSeccomp, a seccompArch) ([]bpf.Instruction, error) {
	if a.audit == 0 {
		return nil, fmt.Errorf("seccomp: no system call table for %s", runtime.GOARCH)
	}
	def, err := seccompRet(prof.DefaultAction, prof.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	rules := map[uint32][]seccompRule{}
	for _, sc := range prof.Syscalls {
		act, err := seccompRet(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, err
		}
		if act == def {
			continue // as runc: libseccomp refuses such rules, and they change nothing
		}
		alts, err := seccompAlternatives(sc.Args)
		if err != nil {
			return nil, fmt.Errorf("seccomp rule %v: %w", sc.Names, err)
		}
		for _, name := range sc.Names {
			nr, ok := a.numbers[name]
			if !ok {
				continue // another architecture's call
			}
			for _, conds := range alts {
				rules[nr] = append(rules[nr], seccompRule{conds, act})
			}
		}
	}

	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: seccompDataArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: a.audit, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		bpf.LoadAbsolute{Off: seccompDataNr, Size: 4},
	}
	if a.x32Bit != 0 {
		// Call -1 (a tracer skipping a call) is not x32: as libseccomp
		// does since its issue 80, it gets the default action.
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: a.x32Bit, SkipFalse: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0xffffffff, SkipTrue: 1},
			bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)})
	}

	// Calls with argument rules, and the others by action.
	var actions []uint32
	always := map[uint32][]uint32{}
	var conditional []uint32
	for _, nr := range slices.Sorted(maps.Keys(rules)) {
		rs := rules[nr]
		for _, r := range rs[1:] {
			if r.action != rs[0].action {
				// libseccomp merges such rules by its own precedence;
				// Docker's profile has none, so do not guess.
				return nil, fmt.Errorf("seccomp: call %d has rules with different actions", nr)
			}
		}
		if !slices.ContainsFunc(rs, func(r seccompRule) bool { return len(r.conds) == 0 }) {
			conditional = append(conditional, nr)
			continue
		}
		act := rs[0].action // an unconditional rule makes the others moot
		if always[act] == nil {
			actions = append(actions, act)
		}
		always[act] = append(always[act], nr)
	}
	// Calls with argument rules first: the kernel caches the verdict of
	// calls the filter allows without reading arguments (5.11+), so only
	// these and refused calls run the program.
	for _, nr := range conditional {
		var body []bpf.Instruction
		for _, r := range rules[nr] {
			body = append(body, seccompRuleCode(r)...)
		}
		// Every rule failed and left an argument word in A.
		body = append(body, bpf.LoadAbsolute{Off: seccompDataNr, Size: 4})
		if len(body) <= 255 {
			prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipFalse: uint8(len(body))})
		} else {
			prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: 1},
				bpf.Jump{Skip: uint32(len(body))})
		}
		prog = append(prog, body...)
	}
	for _, act := range actions {
		for nrs := range slices.Chunk(always[act], 255) { // a jump skips at most 255
			for i, nr := range nrs {
				skip := uint8(len(nrs) - 1 - i) // to the return
				if i == len(nrs)-1 {
					prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipFalse: 1})
				} else {
					prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: skip})
				}
			}
			prog = append(prog, bpf.RetConstant{Val: act})
		}
	}

	prog = append(prog, bpf.RetConstant{Val: def})
	if len(prog) > 4096 { // BPF_MAXINSNS
		return nil, fmt.Errorf("seccomp: filter of %d instructions", len(prog))
	}
	return prog, nil
}

// seccompRuleCode is a rule's conditions then its return; a failed
// condition jumps just past the return.
func seccompRuleCode(r seccompRule) []bpf.Instruction {
	// Built backwards: each condition must know how far its failure jumps.
	code := []bpf.Instruction{bpf.RetConstant{Val: r.action}}
	for i := len(r.conds) - 1; i >= 0; i-- {
		code = append(seccompCondCode(r.conds[i], uint8(len(code))), code...)
	}
	return code
}

// seccompCondCode compares argument c.Index with c as libseccomp does on
// 64-bit architectures: high words first, low words when they are equal.
// It falls through when c holds and otherwise skips fail instructions
// past its end. Sequences are at most 6 long, rules at most 6 conditions.
func seccompCondCode(c specs.LinuxSeccompArg, fail uint8) []bpf.Instruction {
	lo := bpf.LoadAbsolute{Off: seccompDataArgs + 8*uint32(c.Index), Size: 4}
	hi := bpf.LoadAbsolute{Off: lo.Off + 4, Size: 4}
	vhi, vlo := uint32(c.Value>>32), uint32(c.Value)
	jeq, jgt, jge := bpf.JumpEqual, bpf.JumpGreaterThan, bpf.JumpGreaterOrEqual
	switch c.Op {
	case specs.OpEqualTo:
		return []bpf.Instruction{hi, bpf.JumpIf{Cond: jeq, Val: vhi, SkipFalse: fail + 2},
			lo, bpf.JumpIf{Cond: jeq, Val: vlo, SkipFalse: fail}}
	case specs.OpNotEqual:
		return []bpf.Instruction{hi, bpf.JumpIf{Cond: jeq, Val: vhi, SkipFalse: 2},
			lo, bpf.JumpIf{Cond: jeq, Val: vlo, SkipTrue: fail}}
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		// hi > vhi, or hi == vhi and lo > (>=) vlo.
		last := jgt
		if c.Op == specs.OpGreaterEqual {
			last = jge
		}
		return []bpf.Instruction{hi, bpf.JumpIf{Cond: jgt, Val: vhi, SkipTrue: 3},
			bpf.JumpIf{Cond: jeq, Val: vhi, SkipFalse: fail + 2},
			lo, bpf.JumpIf{Cond: last, Val: vlo, SkipFalse: fail}}
	case specs.OpLessThan, specs.OpLessEqual:
		// The negation: hi < vhi, or hi == vhi and not lo >= (>) vlo.
		last := jge
		if c.Op == specs.OpLessEqual {
			last = jgt
		}
		return []bpf.Instruction{hi, bpf.JumpIf{Cond: jge, Val: vhi, SkipFalse: 3},
			bpf.JumpIf{Cond: jeq, Val: vhi, SkipFalse: fail + 2},
			lo, bpf.JumpIf{Cond: last, Val: vlo, SkipTrue: fail}}
	case specs.OpMaskedEqual:
		// (arg & Value) == ValueTwo.
		mhi, mlo := uint32(c.Value>>32), uint32(c.Value)
		whi, wlo := uint32(c.ValueTwo>>32), uint32(c.ValueTwo)
		return []bpf.Instruction{hi, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mhi},
			bpf.JumpIf{Cond: jeq, Val: whi, SkipFalse: fail + 3},
			lo, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mlo},
			bpf.JumpIf{Cond: jeq, Val: wlo, SkipFalse: fail}}
	}
	panic("unchecked seccomp operator " + c.Op) // seccompAlternatives checks
}

// seccompAlternatives turns a rule's argument conditions into
// alternatives (OR) of conjunctions (AND), as runc does: conditions on
// distinct arguments are ANDed, several on the same argument make one
// alternative each. No conditions: one alternative, always true.
func seccompAlternatives(args []specs.LinuxSeccompArg) ([][]specs.LinuxSeccompArg, error) {
	seen := map[uint]bool{}
	repeated := false
	for _, a := range args {
		if a.Index > 5 {
			return nil, fmt.Errorf("argument %d: a call has 6", a.Index)
		}
		switch a.Op {
		case specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
			specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual:
		default:
			return nil, fmt.Errorf("seccomp operator %s not supported", a.Op)
		}
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
	}
	if !repeated {
		return [][]specs.LinuxSeccompArg{args}, nil
	}
	var or [][]specs.LinuxSeccompArg
	for _, a := range args {
		or = append(or, []specs.LinuxSeccompArg{a})
	}
	return or, nil
}

// seccompRet is an action's SECCOMP_RET_* value.
func seccompRet(a specs.LinuxSeccompAction, errno *uint) (uint32, error) {
	switch a {
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActErrno:
		e := uint(unix.EPERM) // libseccomp's and runc's default too
		if errno != nil {
			e = *errno
		}
		return unix.SECCOMP_RET_ERRNO | uint32(e&unix.SECCOMP_RET_DATA), nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	case specs.ActTrace:
		// The kernel's answer when no tracer is attached; a tracer in the
		// pod must not be the one to decide.
		return unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS), nil
	}
	return 0, fmt.Errorf("seccomp action %s not supported", a)
}

// loadSeccomp installs the filter on the calling thread (no TSYNC: the
// init hardens the one thread it forks programs from).
func loadSeccomp(caps []string, noNewPrivs bool) error {
	prog, err := seccompFilter(caps)
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if noNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
	}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filter)
	if e != 0 {
		return fmt.Errorf("seccomp: load filter: %w", e)
	}
	return nil
}
