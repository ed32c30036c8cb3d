package guard

import (
	"fmt"
	"time"
)

// DefaultRate bounds how much faster this node's clock may run than the
// etcd leader's that times the lease (1 %, far above what NTP-disciplined
// or even free-running quartz clocks drift).
const DefaultRate = 0.01

// DefaultMargin is the fixed part of the margin between the local deadline
// and the lease's earliest expiry in etcd, for the time the daemon needs to
// act on it (remove the VIPs) once the deadline passes.
const DefaultMargin = 200 * time.Millisecond

// State is what one guarded virtual router knows of its key: whether this
// node acquired it, when its lease was last renewed as this node saw it
// (the time the renewal was sent, so never later than etcd's renewal), and
// who etcd says holds it. It is pure: events in, a Decision out, time
// given by the caller.
type State struct {
	// Node is this node's name, the value it writes to the key.
	Node string
	// TTL is the lease's time to live; Rate and Margin shorten it into the
	// local deadline (Deadline).
	TTL    time.Duration
	Rate   float64
	Margin time.Duration

	held bool
	// lease is the etcd lease the key was acquired under: only its
	// renewals move the deadline (a renewal of a later lease, after this
	// one was lost, says nothing about the key).
	lease     int64
	renewedAt time.Time
	holder    string
	lost      string
	// rev is etcd's revision of the latest acquisition or holder report
	// taken in: a report from an older revision (a watch that started
	// before our transaction, answered after it) is stale.
	rev int64
}

// NewState returns the state of a key not held, with the default rate and
// margin.
func NewState(node string, ttl time.Duration) *State {
	return &State{Node: node, TTL: ttl, Rate: DefaultRate, Margin: DefaultMargin, lost: "not acquired yet"}
}

// AcquiredAt is Acquired for a transaction that etcd committed at
// revision rev: holder reports from before rev no longer count
// (HolderAt).
func (s *State) AcquiredAt(lease int64, renewedAt time.Time, rev int64) {
	s.rev = max(s.rev, rev)
	s.Acquired(lease, renewedAt)
}

// Acquired records that this node's transaction took (or kept) the key
// under lease, last renewed at renewedAt.
func (s *State) Acquired(lease int64, renewedAt time.Time) {
	if lease != s.lease {
		s.lease, s.renewedAt = lease, renewedAt
	}
	s.held, s.holder, s.lost = true, s.Node, ""
	s.Renewed(lease, renewedAt)
}

// Renewed records a renewal of lease sent at at. Only the key's own lease
// counts, and renewals only move the deadline forward: a late answer to an
// old renewal changes nothing.
func (s *State) Renewed(lease int64, at time.Time) {
	if lease == s.lease && at.After(s.renewedAt) {
		s.renewedAt = at
	}
}

// LeaseLost records that lease is gone; the key is lost if it was held
// under that lease.
func (s *State) LeaseLost(lease int64, why string) {
	if lease == s.lease {
		s.Lost(why)
	}
}

// Lost records that the key is gone for this node: the lease expired or
// was revoked, or a renewal was refused. why is shown in status and logs.
func (s *State) Lost(why string) {
	s.held, s.lost = false, why
	if s.holder == s.Node {
		s.holder = ""
	}
}

// Released records a graceful release (the key deleted by this node).
func (s *State) Released() { s.Lost("released") }

// HolderAt is Holder for a report of etcd's revision rev (0: unknown,
// always taken). A report older than the latest acquisition or report
// taken in is stale and ignored; it says whether the report was taken.
func (s *State) HolderAt(name string, rev int64) bool {
	if rev != 0 && rev < s.rev {
		return false
	}
	s.rev = max(s.rev, rev)
	s.Holder(name)
	return true
}

// Holder records who etcd says holds the key ("" for nobody). Another
// node's name means this node does not hold it, whatever it thought.
func (s *State) Holder(name string) {
	s.holder = name
	if s.held && name != s.Node {
		s.held = false
		s.lost = fmt.Sprintf("key held by %s", displayHolder(name))
	}
}

func displayHolder(name string) string {
	if name == "" {
		return "nobody"
	}
	return name
}

// Deadline is the last instant this node may hold the VIPs on the lease as
// last seen renewed: renewedAt + TTL, shortened by Rate of the TTL and by
// Margin. The lease cannot expire in etcd before renewedAt + TTL of etcd's
// time, and etcd cannot time it faster than Rate beyond this clock.
func (s *State) Deadline() time.Time {
	if s.renewedAt.IsZero() {
		return time.Time{}
	}
	d := s.TTL - time.Duration(float64(s.TTL)*s.Rate) - s.Margin
	return s.renewedAt.Add(d)
}

// Decision is what the guarded instance may do now.
type Decision struct {
	// Own says the instance may be master and hold its VIPs.
	Own bool
	// Until is the deadline when Own: VIPs' kernel lifetimes must not
	// outlast it, and the caller must decide again before it.
	Until time.Time
	// Holder is who etcd says holds the key ("" unknown or nobody).
	Holder string
	// Why says why not, when not Own.
	Why string
}

// Decide says whether the instance may own its VIPs at now.
func (s *State) Decide(now time.Time) Decision {
	d := Decision{Holder: s.holder}
	switch {
	case !s.held:
		d.Why = s.lost
	case !now.Before(s.Deadline()):
		d.Why = fmt.Sprintf("lease not renewed since %s (deadline passed)", s.renewedAt.Format(time.RFC3339Nano))
	default:
		d.Own, d.Until = true, s.Deadline()
	}
	return d
}

// Held reports whether this node holds the key by its own account (its
// deadline aside).
func (s *State) Held() bool { return s.held }

// RenewedAt is when the lease was last renewed as this node saw it.
func (s *State) RenewedAt() time.Time { return s.renewedAt }

// Key is the guard's key of one virtual router: prefix, family ("ipv4" or
// "ipv6") and VRID, the same on every node of the router.
func Key(prefix, family string, vrid int) string {
	return fmt.Sprintf("%s%s/%d", prefix, family, vrid)
}
