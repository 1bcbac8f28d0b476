// Package pod is the instance boundary on a node: one sandbox per VOS
// instance per node, in which every program of the instance runs.
//
// A pod is a Config value (built in one place, like libcontainer's
// configs.Config) applied by one init:
//
//	p, err := pod.Start(pod.Config{Name: "web", UIDBase: b, GIDBase: b,
//		Root: pod.Root{FUSE: true}, ServeFUSE: serve,
//		HostBinds: []string{"/usr", "/lib"}, MemoryLimit: 1 << 30, PidsLimit: 4096,
//		Binds: []pod.Bind{{Source: busDir, Target: "/run/vos"}}, Binary: vosbox})
//	pr, err := p.Start(&pod.Cmd{Argv: argv, Env: env, UID: 1000, GID: 1000, Stdout: w})
//	ex := pr.Wait()
//	p.Procs(); p.Signal(pid, syscall.SIGTERM)
//	p.Destroy()
//
// The init is the current binary re-executed (by descriptor): every main
// that creates pods, and every TestMain of a package whose tests do,
// starts with
//
//	if pod.IsInit() { os.Exit(pod.InitMain()) }
//
// # What the pod is made of, and what each part stops
//
//   - User namespace: instance ids 0–65535 map onto UIDBase/GIDBase + 0–65535,
//     a host range of this instance alone. Instance root is an unprivileged
//     host uid: its capabilities count only for objects the namespace owns;
//     it cannot create device nodes, load modules, or touch host files
//     beyond what "others" may.
//   - Mount namespace: the pod's own mount table; the root is a FUSE mount
//     (or a folder, for tests) with nosuid,nodev; host folders are bound
//     read-only,nosuid,nodev (recursively, with mount_setattr, so locked
//     flags stay); its mount points sit on a scratch tmpfs, nothing is
//     created on the host. Mounts made by the host's root are locked in a
//     user namespace: the pod cannot unmount them to see what lies beneath.
//   - /proc is the pod's own (its pid namespace), with runc's masked paths
//     (kcore, keys, timer_list, sched_debug, …: /dev/null or an empty
//     read-only tmpfs) and read-only ones (/proc/sys, sysrq-trigger, irq,
//     bus, fs). /sys is absent, or read-only with /sys/firmware masked.
//     /dev is a small tmpfs with null, zero, full, random, urandom, tty, a
//     new devpts instance, a size-bounded /dev/shm; /tmp a size-bounded
//     tmpfs when asked.
//   - Pid namespace: the pod sees only its processes; the init is pid 1,
//     so orphans are reparented to it and it reports every exit. When the
//     init dies the kernel kills the whole pod.
//   - Network namespace: only lo (up with Config.Loopback) — no route to
//     the host's loopback services (the NATS port) or anywhere else;
//     abstract unix sockets are per network namespace too.
//   - IPC and UTS namespaces: System V IPC and POSIX queues, hostname.
//   - Cgroup namespace and a cgroup (v1 memory+pids, or v2) carrying the
//     memory and pids limits; the init is in it before it starts anything.
//   - Hardening of the init's forking thread, inherited by every program:
//     bounding set reduced to Docker's default capabilities, no_new_privs
//     (setuid bits and file capabilities grant nothing), Docker's default
//     seccomp profile (no mount, unshare/setns of user namespaces, bpf,
//     keyctl, ptrace-adjacent kernel interfaces, …) assembled in pure Go.
//     The init is non-dumpable: programs, even as instance root, cannot
//     read its memory or environment (which is empty anyway) or ptrace it.
//
// # Protocol
//
// The node talks to the init over a SOCK_SEQPACKET socket pair, one JSON
// message per packet, descriptors passed with SCM_RIGHTS: the program's
// stdio, a pidfd back (for its host pid), the /dev/fuse descriptor of a
// FUSE root (mounted by the init in its user namespace, served by the
// node, e.g. go-fuse's fuse.NewServer on "/dev/fd/N"). The socket is the
// lifeline: when the node's end closes, the init exits and the pod ends.
package pod
