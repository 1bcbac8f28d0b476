package fusefs

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/vos-os/vos/ipc"
)

// groupsTTL is how long a process's supplementary groups are reused
// before /proc is read again: a process that drops groups (setgroups)
// keeps its old ones for that long on this mount.
const groupsTTL = time.Second

// credCache turns a FUSE caller into an ipc.Cred. The kernel tells uid,
// gid and pid; supplementary groups come from /proc/PID/status, cached
// per pid for groupsTTL (one read per process and second instead of one
// per request).
type credCache struct {
	groups func(pid uint32) []uint32 // nil: /proc/PID/status
	mu     sync.Mutex
	m      map[uint32]groupsEntry
}

type groupsEntry struct {
	uid, gid uint32
	groups   []uint32
	at       time.Time
}

func (c *credCache) init(groups func(uint32) []uint32) {
	c.m, c.groups = map[uint32]groupsEntry{}, groups
}

func (c *credCache) setGroups(groups func(uint32) []uint32) {
	c.mu.Lock()
	c.groups = groups
	c.mu.Unlock()
}

// cred returns the credentials of the process that made the request in
// ctx; requests without a caller act as root (the kernel's own).
func (c *credCache) cred(ctx context.Context) *ipc.Cred {
	caller, ok := fuse.FromContext(ctx)
	if !ok {
		return &ipc.Root
	}
	cr := &ipc.Cred{UID: caller.Uid, GID: caller.Gid}
	if caller.Uid == 0 || caller.Pid == 0 {
		return cr // root passes every check; no process, no groups
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[caller.Pid]
	c.mu.Unlock()
	if ok && e.uid == caller.Uid && e.gid == caller.Gid && now.Sub(e.at) < groupsTTL {
		cr.Groups = e.groups
		return cr
	}
	c.mu.Lock()
	groups := c.groups
	c.mu.Unlock()
	if groups != nil {
		cr.Groups = groups(caller.Pid)
	} else {
		cr.Groups = procGroups(caller.Pid)
	}
	c.mu.Lock()
	if len(c.m) > 4096 { // forget exited processes now and then
		for pid, old := range c.m {
			if now.Sub(old.at) >= groupsTTL {
				delete(c.m, pid)
			}
		}
	}
	c.m[caller.Pid] = groupsEntry{uid: caller.Uid, gid: caller.Gid, groups: cr.Groups, at: now}
	c.mu.Unlock()
	return cr
}

// procGroups reads the Groups line of /proc/PID/status (nil if the
// process is gone).
func procGroups(pid uint32) []uint32 {
	data, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/status")
	if err != nil {
		return nil
	}
	return ParseGroups(data)
}

// ParseGroups reads the Groups line of a /proc/PID/status.
func ParseGroups(status []byte) []uint32 {
	for _, line := range bytes.Split(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("Groups:"))
		if !ok {
			continue
		}
		var gs []uint32
		for _, f := range bytes.Fields(rest) {
			if g, err := strconv.ParseUint(string(f), 10, 32); err == nil {
				gs = append(gs, uint32(g))
			}
		}
		return gs
	}
	return nil
}
