package ipc

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// Msg is one received request. The handler answers it with Respond, now or
// later from another goroutine (a deferred reply, as MINIX's SUSPEND): a
// blocking wait or read keeps the Msg and responds when it can.
type Msg struct {
	Op     Op
	Caller string // the caller token from the subject NATS let it publish on ("" for notifications)
	Cred   *Cred  // asserted credentials; always nil unless Caller is the kernel
	Body   []byte // the msgpack body, undecoded

	reply   string
	svc     *Service
	start   time.Time
	size    int
	replied atomic.Bool
}

// Decode decodes the body into v.
func (m *Msg) Decode(v any) error { return decodeChecked(m.Body, v) }

// OneWay tells whether the sender expects no reply (send, notify).
func (m *Msg) OneWay() bool { return m.reply == "" }

// Respond sends the reply: body on success, or err's errno and explanation.
// Only the first call counts; a one-way message is only counted.
func (m *Msg) Respond(body any, err error) {
	if !m.replied.CompareAndSwap(false, true) {
		return
	}
	out := 0
	if m.reply != "" {
		buf := getBuf()
		var errno Errno
		var text string
		if err != nil {
			errno, text, body = ToErrno(err), errMessage(err), nil
		}
		if eerr := appendReply(buf, errno, text, body); eerr != nil {
			buf.Reset()
			errno = EIO
			_ = appendReply(buf, EIO, "encode reply: "+eerr.Error(), nil)
		}
		out = buf.Len()
		if perr := m.svc.nc.Publish(m.reply, buf.Bytes()); perr != nil {
			m.svc.log.Debug("reply lost", zap.Stringer("op", m.Op), zap.Error(perr))
		}
		putBuf(buf)
	}
	now := time.Now()
	m.svc.stats.observe(m.size, out, now.Sub(m.start), err != nil, now)
}

// Handler handles one message; it must Respond eventually (or hand the Msg
// to something that will).
type Handler func(m *Msg)

// ServeOptions tune a service.
type ServeOptions struct {
	Workers int         // concurrent handlers (default 64)
	Log     *zap.Logger // default: none
	// OnPanic is told when a handler panics, after the caller got EIO: a
	// server uses it to fail and be restarted from its journal, since its
	// memory may be inconsistent.
	OnPanic func(v any)
	// Stats, if set, is where the service counts (to keep counting across
	// a stop and a new Serve); default: its own.
	Stats *Stats
}

// Service is a subscription that dispatches messages to a handler on a
// pool of workers.
type Service struct {
	nc    *nats.Conn
	sub   *nats.Subscription
	h     Handler
	opts  ServeOptions
	log   *zap.Logger
	stats *Stats
	// callers: the last subject token is the caller's (endpoints, not events)
	callers bool

	mu        sync.RWMutex // held for reading while queueing a message
	stopped   bool
	aborted   atomic.Bool
	rejecting atomic.Bool
	active    atomic.Int64 // handlers running
	ch        chan *nats.Msg
	wg        sync.WaitGroup
}

// Serve subscribes to the endpoint (in its queue group) and dispatches.
func Serve(nc *nats.Conn, ep Endpoint, h Handler, opts ServeOptions) (*Service, error) {
	return serve(nc, ep.Pattern(), ep.Queue, true, h, opts)
}

// ServeSubject serves a raw subject with no caller token, such as a
// notification subject; an empty queue makes every subscriber receive every
// message.
func ServeSubject(nc *nats.Conn, subject, queue string, h Handler, opts ServeOptions) (*Service, error) {
	return serve(nc, subject, queue, false, h, opts)
}

func serve(nc *nats.Conn, subject, queue string, callers bool, h Handler, opts ServeOptions) (*Service, error) {
	if opts.Workers <= 0 {
		opts.Workers = 64
	}
	if opts.Stats == nil {
		opts.Stats = new(Stats)
	}
	s := &Service{nc: nc, h: h, opts: opts, log: opts.Log, stats: opts.Stats, callers: callers,
		ch: make(chan *nats.Msg, 4*opts.Workers)}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	for i := 0; i < opts.Workers; i++ {
		s.wg.Add(1)
		go s.work()
	}
	var err error
	if queue == "" {
		s.sub, err = nc.Subscribe(subject, s.enqueue)
	} else {
		s.sub, err = nc.QueueSubscribe(subject, queue, s.enqueue)
	}
	if err == nil {
		// Unlimited pending: backpressure comes from the channel, and a
		// slow consumer must never silently drop requests.
		err = s.sub.SetPendingLimits(-1, -1)
	}
	if err == nil {
		err = nc.Flush() // the subscription is live on the server when we return
	}
	if err != nil {
		s.Abort()
		return nil, fmt.Errorf("serve %s: %w", subject, err)
	}
	return s, nil
}

// Stats returns the service's counters.
func (s *Service) Stats() *Stats { return s.stats }

func (s *Service) enqueue(m *nats.Msg) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.stopped {
		s.ch <- m
	}
}

func (s *Service) work() {
	defer s.wg.Done()
	for nm := range s.ch {
		switch {
		case s.aborted.Load():
		case s.rejecting.Load():
			if nm.Reply != "" {
				data, _ := EncodeReply(ENOTCONN, "server is going away: request not handled", nil)
				_ = s.nc.Publish(nm.Reply, data)
			}
		default:
			s.active.Add(1)
			s.dispatch(nm)
			s.active.Add(-1)
		}
	}
}

func (s *Service) dispatch(nm *nats.Msg) {
	m := &Msg{reply: nm.Reply, svc: s, start: time.Now(), size: len(nm.Data)}
	if s.callers {
		m.Caller = CallerOf(nm.Subject)
	}
	op, cred, body, err := DecodeRequest(nm.Data)
	if err != nil {
		m.Respond(nil, &Error{Errno: EBADMSG, Msg: err.Error()})
		return
	}
	m.Op, m.Body = op, body
	if m.Caller == CallerKernel {
		m.Cred = cred
	}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("handler panic", zap.Stringer("op", op), zap.Any("panic", v),
				zap.ByteString("stack", debug.Stack()))
			m.Respond(nil, &Error{Errno: EIO, Msg: fmt.Sprintf("server failed handling %v", op)})
			if s.opts.OnPanic != nil {
				s.opts.OnPanic(v)
			}
		}
	}()
	s.h(m)
}

// Stop unsubscribes, handles every message already delivered (drain), lets
// the workers finish, and returns when they are done: a request that
// reached this service is answered, one that did not finds no server and
// is retried elsewhere. Deferred replies still pending are the owner's.
func (s *Service) Stop() {
	if s.sub != nil {
		closed := s.sub.StatusChanged(nats.SubscriptionClosed)
		if err := s.sub.Drain(); err == nil {
			_ = s.nc.FlushTimeout(time.Second)
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
			}
		}
	}
	s.shutdown()
	s.wg.Wait()
}

// Reject stops, answering the messages already delivered with ENOTCONN
// ("not handled"), which callers retry elsewhere: a server that failed
// answers rather than leaving its callers to time out.
func (s *Service) Reject() {
	s.rejecting.Store(true)
	s.Stop() // drain: what was delivered is answered, not dropped
}

// SetRejecting makes the service answer every request ENOTCONN instead of
// handling it, while keeping its subscription, or handle them again. A
// server handing over to another copy rejects rather than unsubscribes:
// callers then never find no server, nor have a request dropped on its way
// to a subscription that just went away; they retry until the other copy
// answers.
func (s *Service) SetRejecting(on bool) { s.rejecting.Store(on) }

// Quiesce waits until no handler runs (deferred replies not counted).
func (s *Service) Quiesce(ctx context.Context) error {
	for s.active.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// Abort stops at once: queued messages are dropped (their callers time out),
// as when a server is killed.
func (s *Service) Abort() {
	s.aborted.Store(true)
	s.shutdown()
}

func (s *Service) shutdown() {
	if s.sub != nil {
		_ = s.sub.Unsubscribe()
		// The server must know at once that nobody serves here any more,
		// so callers get "no server" rather than waiting for a reply.
		_ = s.nc.FlushTimeout(time.Second)
	}
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.ch)
	}
	s.mu.Unlock()
}
