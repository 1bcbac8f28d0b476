package systask

import "github.com/vos-os/vos/kernel/pod"

// Reexec runs this process as a pod's init when the system task started it
// as one (it re-executes its own binary, the runc pattern), and says so
// with the exit code. Every binary that starts nodes — vosd, vosbench, a
// test binary (through its TestMain) — calls it first thing in main,
// explicitly, so the dispatch is visible where the program starts rather
// than hidden in an init function.
func Reexec() (code int, ok bool) {
	if pod.IsInit() {
		return pod.InitMain(), true
	}
	return 0, false
}
