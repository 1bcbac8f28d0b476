package ipc

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Stats counts an endpoint's traffic: messages, bytes each way, errors,
// a latency histogram and a recent message rate. All methods are safe for
// concurrent use and lock-free; topology reads them through Snapshot.
type Stats struct {
	Msgs     atomic.Uint64
	BytesIn  atomic.Uint64
	BytesOut atomic.Uint64
	Errors   atomic.Uint64
	Latency  Histogram
	rate     rateRing
}

// Observe records one handled message.
func (s *Stats) Observe(in, out int, d time.Duration, failed bool) {
	s.observe(in, out, d, failed, time.Now())
}

func (s *Stats) observe(in, out int, d time.Duration, failed bool, now time.Time) {
	s.Msgs.Add(1)
	s.BytesIn.Add(uint64(in))
	s.BytesOut.Add(uint64(out))
	if failed {
		s.Errors.Add(1)
	}
	s.Latency.Observe(d)
	s.rate.add(now.Unix())
}

// StatsSnapshot is a point-in-time copy of Stats, as carried in status replies.
type StatsSnapshot struct {
	Msgs     uint64
	BytesIn  uint64
	BytesOut uint64
	Errors   uint64
	Rate     float64 // messages per second over the last 10 s
	P50      time.Duration
	P99      time.Duration
	Max      time.Duration
}

// Snapshot copies the counters and derives quantiles and the rate.
func (s *Stats) Snapshot() StatsSnapshot {
	h := s.Latency.Snapshot()
	return StatsSnapshot{
		Msgs: s.Msgs.Load(), BytesIn: s.BytesIn.Load(), BytesOut: s.BytesOut.Load(),
		Errors: s.Errors.Load(), Rate: s.rate.rate(time.Now().Unix()),
		P50: h.Quantile(0.50), P99: h.Quantile(0.99), Max: h.Max(),
	}
}

// Histogram is a log-linear latency histogram: four buckets per power of
// two of nanoseconds, so a quantile is within 19% of the truth from 1 ns to
// 2^63 ns, at a fixed 256 counters and no locks.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
}

const (
	histSub     = 4 // buckets per power of two (2 bits)
	histBuckets = 64 * histSub
)

func bucketOf(ns uint64) int {
	if ns < histSub {
		return int(ns)
	}
	exp := bits.Len64(ns) - 1                     // ns in [2^exp, 2^(exp+1))
	sub := int(ns>>(uint(exp)-2)) & (histSub - 1) // next two bits
	return exp*histSub + sub
}

// bucketUpper is the largest value that lands in bucket b.
func bucketUpper(b int) uint64 {
	if b < histSub {
		return uint64(b)
	}
	exp, sub := b/histSub, b%histSub
	lo := uint64(1)<<uint(exp) | uint64(sub)<<(uint(exp)-2)
	return lo + uint64(1)<<(uint(exp)-2) - 1
}

// Observe records one latency.
func (h *Histogram) Observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))].Add(1)
}

// HistSnapshot is a copy of a histogram's counts.
type HistSnapshot [histBuckets]uint64

// Snapshot copies the counts.
func (h *Histogram) Snapshot() (s HistSnapshot) {
	for i := range h.counts {
		s[i] = h.counts[i].Load()
	}
	return s
}

// Count is the number of observations.
func (s *HistSnapshot) Count() (n uint64) {
	for _, c := range s {
		n += c
	}
	return n
}

// Quantile returns the upper bound of the bucket holding quantile q (0..1),
// 0 when empty.
func (s *HistSnapshot) Quantile(q float64) time.Duration {
	n := s.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for b, c := range s {
		seen += c
		if seen >= rank {
			return time.Duration(bucketUpper(b))
		}
	}
	return time.Duration(bucketUpper(histBuckets - 1))
}

// Max returns the upper bound of the highest non-empty bucket.
func (s *HistSnapshot) Max() time.Duration {
	for b := histBuckets - 1; b >= 0; b-- {
		if s[b] > 0 {
			return time.Duration(bucketUpper(b))
		}
	}
	return 0
}

// rateRing counts messages per second over the last 16 seconds.
type rateRing struct {
	slots [16]struct {
		sec atomic.Int64
		n   atomic.Uint64
	}
}

func (r *rateRing) add(now int64) {
	s := &r.slots[now&15]
	if old := s.sec.Load(); old != now && s.sec.CompareAndSwap(old, now) {
		s.n.Store(0)
	}
	s.n.Add(1)
}

// rate is messages per second over the ten full seconds before now.
func (r *rateRing) rate(now int64) float64 {
	var n uint64
	for i := int64(1); i <= 10; i++ {
		s := &r.slots[(now-i)&15]
		if s.sec.Load() == now-i {
			n += s.n.Load()
		}
	}
	return float64(n) / 10
}
