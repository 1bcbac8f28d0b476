package fs

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/vos-os/vos/ipc"
)

// credTTL is how long a process's credentials are trusted without asking
// PM again. Processes cannot change their credentials today, so this only
// bounds the memory of pids that are gone.
const credTTL = 10 * time.Second

// credCache asks PM for the credentials of process callers, as MINIX's VFS
// learns them from PM.
type credCache struct {
	c     *ipc.Conn
	pm    ipc.Endpoint
	mu    sync.Mutex
	m     map[string]credEntry
	swept time.Time
}

type credEntry struct {
	cred *ipc.Cred
	at   time.Time
}

func newCredCache(c *ipc.Conn, inst string) *credCache {
	return &credCache{c: c, pm: ipc.ServerEndpoint(inst, ipc.RolePM), m: map[string]credEntry{}}
}

func (cc *credCache) get(caller string) (*ipc.Cred, error) {
	now := time.Now()
	cc.mu.Lock()
	if e, ok := cc.m[caller]; ok && now.Sub(e.at) < credTTL {
		cc.mu.Unlock()
		return e.cred, nil
	}
	if now.Sub(cc.swept) > credTTL {
		for k, e := range cc.m {
			if now.Sub(e.at) >= credTTL {
				delete(cc.m, k)
			}
		}
		cc.swept = now
	}
	cc.mu.Unlock()
	pid, err := strconv.Atoi(caller)
	if err != nil {
		return nil, ipc.Errorf(ipc.EPERM, "caller %q is not a process", caller)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var cred ipc.Cred
	if err := cc.c.Call(ctx, cc.pm, ipc.OpPMCred, &ipc.PMCredReq{PID: pid}, &cred); err != nil {
		return nil, ipc.Errorf(ipc.EPERM, "credentials of pid %d: %v", pid, err)
	}
	cc.mu.Lock()
	cc.m[caller] = credEntry{cred: &cred, at: now}
	cc.mu.Unlock()
	return &cred, nil
}
