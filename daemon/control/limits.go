package control

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Connection limits of the control socket. Each open connection holds one
// of the daemon's file descriptors, and the daemon needs descriptors for
// its track and notify scripts (pipes), raw sockets, netlink and the state
// file: without a cap, a member of the socket's group opening thousands of
// idle connections made scripts fail with "too many open files" and the
// instance fault.
const (
	// DefaultMaxConns caps the connections open at once, root's included.
	DefaultMaxConns = 256
	// DefaultMaxConnsPerUID caps one non-root user's connections.
	DefaultMaxConnsPerUID = 32
	// DefaultRootReserve is the share of DefaultMaxConns only root may
	// use, so that an operator can still ask while others fill the rest.
	DefaultRootReserve = 16
	// DescriptorReserve is how many descriptors below RLIMIT_NOFILE the
	// caps always leave to the rest of the daemon.
	DescriptorReserve = 256
	// DefaultIdleTimeout closes a keep-alive connection that sends no new
	// request for this long.
	DefaultIdleTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds writing an answer (GET /v1/events
	// replaces it by StreamWriteTimeout per event).
	DefaultWriteTimeout = 30 * time.Second
	// refusedLogEvery bounds the log lines about refused connections.
	refusedLogEvery = 10 * time.Second
)

// Limits bound the connections the control socket keeps open.
type Limits struct {
	// MaxConns caps all connections; MaxConnsPerUID those of one non-root
	// uid; RootReserve of MaxConns are kept for root (uid 0).
	MaxConns, MaxConnsPerUID, RootReserve int
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration
	// WriteTimeout bounds writing an answer; 0 means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
}

func (l Limits) writeTimeout() time.Duration {
	if l.WriteTimeout > 0 {
		return l.WriteTimeout
	}
	return DefaultWriteTimeout
}

// LimitsFor returns the default limits, lowered when the descriptor limit
// nofile (RLIMIT_NOFILE's soft limit) is too small to hold them and still
// leave DescriptorReserve descriptors, plus as many again as the caps, to
// the rest of the daemon.
func LimitsFor(nofile uint64) Limits {
	l := Limits{MaxConns: DefaultMaxConns, MaxConnsPerUID: DefaultMaxConnsPerUID, RootReserve: DefaultRootReserve, IdleTimeout: DefaultIdleTimeout}
	avail := 0
	if nofile > DescriptorReserve {
		avail = int(min(nofile-DescriptorReserve, 1<<20)) / 2
	}
	if avail < l.MaxConns {
		l.MaxConns = max(avail, 4)
		l.RootReserve = max(l.MaxConns/16, 2)
		l.MaxConnsPerUID = max(min(l.MaxConnsPerUID, l.MaxConns/8), 1)
	}
	return l
}

// ConnStats are the control socket's connection counters.
type ConnStats struct {
	// Open is the number of connections open now.
	Open int
	// Refused counts connections closed at once for being over a limit
	// (or whose peer credentials could not be read), since start.
	Refused uint64
}

// connLimiter admits connections within Limits and counts the rest.
type connLimiter struct {
	lim Limits
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	open       int
	byUID      map[int]int
	lastLog    time.Time
	unreported uint64

	refused atomic.Uint64
}

func newConnLimiter(lim Limits, log *slog.Logger) *connLimiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &connLimiter{lim: lim, log: log, now: time.Now, byUID: map[int]int{}}
}

// admit takes a slot for uid, or says no. Root may use every slot; other
// users all but RootReserve, and at most MaxConnsPerUID each.
func (l *connLimiter) admit(uid int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	limit := l.lim.MaxConns
	if uid != 0 {
		limit -= l.lim.RootReserve
		if l.byUID[uid] >= l.lim.MaxConnsPerUID {
			return false
		}
	}
	if l.open >= limit {
		return false
	}
	l.open++
	l.byUID[uid]++
	return true
}

func (l *connLimiter) release(uid int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byUID[uid]--; l.byUID[uid] <= 0 {
		delete(l.byUID, uid)
	}
}

// refuse counts a refused connection and logs at most one line per
// refusedLogEvery, with the number refused since the last line.
func (l *connLimiter) refuse(uid, pid int, why string) {
	l.refused.Add(1)
	l.mu.Lock()
	l.unreported++
	now := l.now()
	if !l.lastLog.IsZero() && now.Sub(l.lastLog) < refusedLogEvery {
		l.mu.Unlock()
		return
	}
	n, open, mine := l.unreported, l.open, l.byUID[uid]
	l.unreported, l.lastLog = 0, now
	l.mu.Unlock()
	l.log.Warn("control socket: connection refused", "why", why, "uid", uid, "pid", pid, "open", open, "open_by_uid", mine,
		"max", l.lim.MaxConns, "max_per_uid", l.lim.MaxConnsPerUID, "refused_since_last_line", n, "refused_total", l.refused.Load())
}

func (l *connLimiter) stats() ConnStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ConnStats{Open: l.open, Refused: l.refused.Load()}
}

// limitedConn gives its slot back once, when closed. It embeds the
// *net.UnixConn so that the HTTP server still finds CloseWrite.
type limitedConn struct {
	*net.UnixConn
	peer Peer
	once sync.Once
	l    *connLimiter
}

func (c *limitedConn) Close() error {
	err := c.UnixConn.Close()
	c.once.Do(func() { c.l.release(c.peer.UID) })
	return err
}
