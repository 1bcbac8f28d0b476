package ipc

// Perms is what a confined NATS user may publish and subscribe to. The
// node's authenticator turns it into nats-server permissions; it lives here,
// beside the subject grammar it is written in, so that a renamed subject
// cannot silently open or close a door.
type Perms struct {
	PubAllow, PubDeny, SubAllow []string
}

// InstancePerms is a tool acting inside one instance: every subject of the
// instance, but never calling a server as the kernel.
func InstancePerms(inst string) Perms {
	root := subjectRoot + "." + inst
	return Perms{
		PubAllow: []string{root + ".>"},
		PubDeny:  []string{root + ".srv.*." + CallerKernel},
		SubAllow: []string{root + ".>", InboxPrefix(inst, "i") + ".>"},
	}
}

// ProcessPerms is one process (caller token = its pid): it calls servers
// as itself, reads and writes its own streams, hears the instance's events,
// and receives replies in its own inbox. (It also answers the messages of
// the streams it serves: a response permission the authenticator adds.)
func ProcessPerms(inst, caller string) Perms {
	root := subjectRoot + "." + inst
	own := root + ".proc." + caller + ".>"
	return Perms{
		PubAllow: []string{root + ".srv.*." + caller, own},
		SubAllow: []string{InboxPrefix(inst, caller) + ".>", own, root + ".ev.>"},
	}
}
