package ipc

import (
	"errors"
	"strconv"
	"strings"
)

// ProcEnv is what a node's system task tells a VOS-native program it
// starts, carried in the program's environment. The system task encodes
// it (Environ) and libvos decodes it (ProcEnvFrom): the variable names
// exist only here, so the two sides cannot drift apart.
type ProcEnv struct {
	URL string // the node's NATS address
	// BusSocket, when set, is a unix socket to dial instead of URL's
	// host: a pod's programs reach the bus only through it.
	BusSocket string
	Instance  string
	Node      string
	PID       int
	PPID      int
	User      string // NATS user of this process
	// CredFD is the descriptor the process reads its NATS password from
	// (and closes): never an environment variable, which other programs
	// of the same uid could read in /proc.
	CredFD int
	Cwd    string
	// The process's standard streams when they are VOS streams its
	// children may inherit ("" for anything else).
	Stdin, Stdout, Stderr string
	Tty                   bool // stdout (and stderr) is a terminal
	// HostBinds are the host folders bound read-only into the pod, which
	// libvos shows at their paths (one view of the tree).
	HostBinds []string
	Lifeline  int // descriptor that reaches end of file when the node dies (0: none)
}

// A pod's bus: the socket native programs dial (bound into every pod),
// and the URL they give NATS (whose host is never dialed).
const (
	PodBusSocket = "/run/vos/bus.sock"
	PodBusURL    = "nats://vos-bus:4222"
)

// The environment variables of ProcEnv.
const (
	envURL      = "VOS_URL"
	envBus      = "VOS_BUS"
	envInstance = "VOS_INSTANCE"
	envNode     = "VOS_NODE"
	envPID      = "VOS_PID"
	envPPID     = "VOS_PPID"
	envUser     = "VOS_USER"
	envCredFD   = "VOS_CRED_FD"
	envCwd      = "VOS_CWD"
	envStdin    = "VOS_STDIN"
	envStdout   = "VOS_STDOUT"
	envStderr   = "VOS_STDERR"
	envTty      = "VOS_TTY"
	envLifeline = "VOS_LIFELINE"
	envHost     = "VOS_HOST_BINDS"
)

// IsProcEnvVar tells whether an environment entry ("NAME=value" or NAME)
// belongs to ProcEnv, so a program passing its environment on to a child
// can leave its own process's identity out.
func IsProcEnvVar(kv string) bool {
	return len(kv) >= 4 && kv[:4] == "VOS_"
}

// Environ encodes e as environment entries.
func (e *ProcEnv) Environ() []string {
	env := []string{
		envURL + "=" + e.URL, envBus + "=" + e.BusSocket, envInstance + "=" + e.Instance, envNode + "=" + e.Node,
		envPID + "=" + strconv.Itoa(e.PID), envPPID + "=" + strconv.Itoa(e.PPID),
		envUser + "=" + e.User, envCredFD + "=" + strconv.Itoa(e.CredFD), envCwd + "=" + e.Cwd,
		envStdin + "=" + e.Stdin, envStdout + "=" + e.Stdout, envStderr + "=" + e.Stderr,
	}
	if e.Tty {
		env = append(env, envTty+"=1")
	}
	if len(e.HostBinds) > 0 {
		env = append(env, envHost+"="+strings.Join(e.HostBinds, ":"))
	}
	if e.Lifeline > 0 {
		env = append(env, envLifeline+"="+strconv.Itoa(e.Lifeline))
	}
	return env
}

// TtyFrom tells from an environment alone whether the process's stdout is
// a terminal (ProcEnv.Tty), without requiring the rest of ProcEnv.
func TtyFrom(getenv func(string) string) bool { return getenv(envTty) == "1" }

// ErrNotVOSProcess says a program was not started by a VOS node.
var ErrNotVOSProcess = errors.New("not a VOS process (VOS_URL, VOS_INSTANCE and VOS_PID are not all set)")

// ProcEnvFrom decodes a ProcEnv through getenv (os.Getenv, usually).
func ProcEnvFrom(getenv func(string) string) (*ProcEnv, error) {
	e := &ProcEnv{
		URL: getenv(envURL), BusSocket: getenv(envBus), Instance: getenv(envInstance), Node: getenv(envNode),
		User: getenv(envUser), Cwd: getenv(envCwd),
		Stdin: getenv(envStdin), Stdout: getenv(envStdout), Stderr: getenv(envStderr),
		Tty: getenv(envTty) == "1",
	}
	pid := getenv(envPID)
	if e.URL == "" || e.Instance == "" || pid == "" {
		return nil, ErrNotVOSProcess
	}
	var err error
	if e.PID, err = strconv.Atoi(pid); err != nil || e.PID <= 0 {
		return nil, errors.New("VOS_PID " + strconv.Quote(pid) + " is not a pid")
	}
	e.PPID, _ = strconv.Atoi(getenv(envPPID))
	e.Lifeline, _ = strconv.Atoi(getenv(envLifeline))
	e.CredFD, _ = strconv.Atoi(getenv(envCredFD))
	if h := getenv(envHost); h != "" {
		e.HostBinds = strings.Split(h, ":")
	}
	return e, nil
}
