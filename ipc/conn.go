package ipc

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultTimeout bounds a call whose context has no deadline, so that no
// call can hang. Calls that may block for long (wait) pass NoTimeout.
const DefaultTimeout = 10 * time.Second

// handoverBackoff caps the wait between retries once a server said "not
// handled" (it is handing over): the next copy answers within moments.
const handoverBackoff = 5 * time.Millisecond

// Conn is a caller's side of IPC: a NATS connection and the caller token
// that NATS lets this connection publish with.
type Conn struct {
	nc     *nats.Conn
	caller string
	cred   *Cred

	// Timeout applies to calls whose context has no deadline.
	Timeout time.Duration
	// RetryNoServer is how long a call keeps retrying while nobody serves
	// the endpoint (a server restarting or moving). Retrying is safe: a
	// no-responders reply means the request was delivered to no one.
	RetryNoServer time.Duration
}

// NewConn wraps a NATS connection for a caller.
func NewConn(nc *nats.Conn, caller string) *Conn {
	return &Conn{nc: nc, caller: caller, Timeout: DefaultTimeout}
}

// NATS returns the underlying connection.
func (c *Conn) NATS() *nats.Conn { return c.nc }

// Caller returns the caller token.
func (c *Conn) Caller() string { return c.caller }

// WithCred returns a Conn that asserts cred on its calls. Servers honour it
// only from kernel callers.
func (c *Conn) WithCred(cred *Cred) *Conn {
	cp := *c
	cp.cred = cred
	return &cp
}

type noTimeoutKey struct{}

// NoTimeout marks ctx so that a call under it is bounded only by ctx itself,
// not by the Conn's default timeout: for calls that block by design (wait).
func NoTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, noTimeoutKey{}, true)
}

// request sends one request. A context that can never end (Background)
// takes the cheaper timer-based request; any other is bounded by the
// Conn's timeout unless it has its own deadline or is marked NoTimeout.
func (c *Conn) request(ctx context.Context, subj string, data []byte) (*nats.Msg, error) {
	bounded := c.Timeout > 0 && ctx.Value(noTimeoutKey{}) == nil
	if bounded && ctx.Done() == nil {
		return c.nc.Request(subj, data, c.Timeout)
	}
	if _, ok := ctx.Deadline(); !ok && bounded {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	return c.nc.RequestWithContext(ctx, subj, data)
}

// Call sends req to the endpoint and decodes the reply into rep (which may
// be nil). It returns the server's errno as an Errno (or *Error), or a
// *CallError wrapping ErrNoServer or ErrTimeout.
func (c *Conn) Call(ctx context.Context, ep Endpoint, op Op, req, rep any) error {
	data, err := c.RawCall(ctx, ep, op, req)
	if err != nil {
		return err
	}
	if rep == nil || len(data) == 0 {
		return nil
	}
	if err := decodeChecked(data, rep); err != nil {
		return &CallError{Endpoint: ep.Prefix, Op: op, Err: err}
	}
	return nil
}

// RawCall is Call returning the reply body undecoded.
func (c *Conn) RawCall(ctx context.Context, ep Endpoint, op Op, req any) ([]byte, error) {
	buf := getBuf()
	defer putBuf(buf)
	if err := appendRequest(buf, op, c.cred, req); err != nil {
		return nil, &CallError{Endpoint: ep.Prefix, Op: op, Err: err}
	}
	subj := ep.Subject(c.caller)
	var giveUp time.Time
	backoff := 2 * time.Millisecond
	rejected := 0
	for {
		msg, err := c.request(ctx, subj, buf.Bytes())
		if err == nil {
			errno, text, body, derr := DecodeReply(msg.Data)
			if derr != nil {
				return nil, &CallError{Endpoint: ep.Prefix, Op: op, Err: derr}
			}
			if errno != ENOTCONN || c.RetryNoServer <= 0 {
				return body, replyError(errno, text)
			}
			// ENOTCONN: a server going away rejected it unhandled; as safe
			// to retry as no responders, and another copy is likely up:
			// the first retries go at once.
			err = nats.ErrNoResponders
			if rejected++; rejected <= 3 {
				continue
			}
			backoff = min(backoff, handoverBackoff)
		}
		if errors.Is(err, nats.ErrNoResponders) && c.RetryNoServer > 0 {
			if giveUp.IsZero() {
				giveUp = time.Now().Add(c.RetryNoServer)
			}
			if time.Now().Before(giveUp) {
				t := time.NewTimer(backoff)
				select {
				case <-t.C:
					backoff = min(backoff*2, 100*time.Millisecond)
					if rejected > 0 {
						backoff = min(backoff, handoverBackoff)
					}
					continue
				case <-ctx.Done():
					t.Stop()
					err = ctx.Err()
				}
			}
		}
		return nil, &CallError{Endpoint: ep.Prefix, Op: op, Err: transportError(err)}
	}
}

func transportError(err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return ErrNoServer
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return ErrTimeout
	}
	return err
}

// Send delivers a one-way message to one server of the endpoint. It does not
// wait; there is no reply and no error from the server.
func (c *Conn) Send(ep Endpoint, op Op, req any) error {
	return c.publish(ep.Subject(c.caller), op, req)
}

// Notify publishes an event to every listener of subject.
func (c *Conn) Notify(subject string, op Op, body any) error {
	return c.publish(subject, op, body)
}

func (c *Conn) publish(subject string, op Op, body any) error {
	buf := getBuf()
	defer putBuf(buf)
	if err := appendRequest(buf, op, c.cred, body); err != nil {
		return err
	}
	return c.nc.Publish(subject, buf.Bytes())
}
