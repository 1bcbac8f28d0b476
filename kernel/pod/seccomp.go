package pod

import (
	"fmt"
	"syscall"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The filter is Docker's default seccomp profile (moby/profiles/seccomp,
// the data Docker, containerd and Podman ship), resolved by moby's own
// code for the pod's bounding set and this kernel, then assembled to BPF
// by elastic/go-seccomp-bpf: pure Go, so building VOS needs no
// libseccomp. Differences from libseccomp's rendering: only the native
// architecture is allowed (32-bit and x32 calls fail with EPERM/ENOSYS),
// and names this architecture lacks are skipped.

// seccompPolicy converts the default profile for the given bounding set.
func seccompPolicy(caps []string) (*seccomp.Policy, error) {
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
	prof, err := mobyseccomp.GetDefaultProfile(spec)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	info, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	def, err := seccompAction(prof.DefaultAction, prof.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	// The library validates the default action by name only and renders
	// a bare ActionErrno as EPERM.
	switch def {
	case seccomp.ActionErrno | seccomp.Action(syscall.EPERM):
		def = seccomp.ActionErrno
	case seccomp.ActionErrno, seccomp.ActionAllow, seccomp.ActionKillProcess, seccomp.ActionKillThread, seccomp.ActionLog:
	default:
		return nil, fmt.Errorf("seccomp default action %#x not supported", uint32(def))
	}
	p := &seccomp.Policy{DefaultAction: def}
	for _, sc := range prof.Syscalls {
		act, err := seccompAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, err
		}
		conds, err := seccompConds(sc.Args)
		if err != nil {
			return nil, fmt.Errorf("seccomp rule %v: %w", sc.Names, err)
		}
		g := seccomp.SyscallGroup{Action: act}
		for _, name := range sc.Names {
			if _, ok := info.SyscallNames[name]; !ok {
				continue // another architecture's call
			}
			if conds == nil {
				g.Names = append(g.Names, name)
				continue
			}
			for _, c := range conds {
				g.NamesWithCondtions = append(g.NamesWithCondtions, seccomp.NameWithConditions{Name: name, Conditions: c})
			}
		}
		if len(g.Names)+len(g.NamesWithCondtions) > 0 {
			p.Syscalls = append(p.Syscalls, g)
		}
	}
	return p, nil
}

func seccompAction(a specs.LinuxSeccompAction, errno *uint) (seccomp.Action, error) {
	switch a {
	case specs.ActAllow:
		return seccomp.ActionAllow, nil
	case specs.ActErrno:
		e := uint(1) // EPERM, libseccomp's default too
		if errno != nil {
			e = *errno
		}
		return seccomp.ActionErrno | seccomp.Action(e&0xffff), nil
	case specs.ActKillProcess:
		return seccomp.ActionKillProcess, nil
	case specs.ActKill, specs.ActKillThread:
		return seccomp.ActionKillThread, nil
	case specs.ActLog:
		return seccomp.ActionLog, nil
	}
	return 0, fmt.Errorf("seccomp action %s not supported", a)
}

// seccompConds turns a rule's argument conditions into alternatives (OR)
// of conjunctions (AND). As in runc, conditions on distinct arguments are
// ANDed, several on the same argument make one alternative each.
func seccompConds(args []specs.LinuxSeccompArg) ([]seccomp.ArgumentConditions, error) {
	if len(args) == 0 {
		return nil, nil
	}
	seen := map[uint]bool{}
	repeated := false
	for _, a := range args {
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
	}
	var and seccomp.ArgumentConditions
	var or []seccomp.ArgumentConditions
	for _, a := range args {
		c := seccomp.Condition{Argument: uint32(a.Index), Value: a.Value}
		switch a.Op {
		case specs.OpEqualTo:
			c.Operation = seccomp.Equal
		case specs.OpNotEqual:
			c.Operation = seccomp.NotEqual
		case specs.OpLessThan:
			c.Operation = seccomp.LessThan
		case specs.OpLessEqual:
			c.Operation = seccomp.LessOrEqual
		case specs.OpGreaterThan:
			c.Operation = seccomp.GreaterThan
		case specs.OpGreaterEqual:
			c.Operation = seccomp.GreaterOrEqual
		case specs.OpMaskedEqual:
			// libseccomp: (arg & Value) == ValueTwo; the profile only
			// uses ValueTwo 0, "none of these bits".
			if a.ValueTwo != 0 {
				return nil, fmt.Errorf("masked compare with non-zero value %#x not supported", a.ValueTwo)
			}
			c.Operation = seccomp.BitsNotSet
		default:
			return nil, fmt.Errorf("seccomp operator %s not supported", a.Op)
		}
		if repeated {
			or = append(or, seccomp.ArgumentConditions{c})
		} else {
			and = append(and, c)
		}
	}
	if repeated {
		return or, nil
	}
	return []seccomp.ArgumentConditions{and}, nil
}

// loadSeccomp installs the filter on the calling thread (no TSYNC: the
// init hardens the one thread it forks programs from).
func loadSeccomp(caps []string, noNewPrivs bool) error {
	p, err := seccompPolicy(caps)
	if err != nil {
		return err
	}
	if err := seccomp.LoadFilter(seccomp.Filter{NoNewPrivs: noNewPrivs, Policy: *p}); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}
