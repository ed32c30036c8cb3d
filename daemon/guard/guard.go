package guard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Config is one etcd_guard as the daemon runs it.
type Config struct {
	// Name is the guard's name, for logs and errors.
	Name string
	// Node is this node's name: the value of every key it holds.
	Node string
	// Endpoints are etcd's client URLs.
	Endpoints []string
	// TTL is the lease's time to live (whole seconds, at least 1 s).
	TTL time.Duration
	// TLS is the client's TLS configuration (TLSConfig), nil for http.
	TLS *tls.Config
	// Username and Password are etcd's authentication, if set.
	Username, Password string
	// CallTimeout bounds every call to etcd (default TTL/4, at most 1 s):
	// a call that takes longer is worth nothing to a lease of TTL.
	CallTimeout time.Duration
	// DialOptions are added to the client's (tests dial inside a lab).
	DialOptions []grpc.DialOption
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// TLSConfig builds the client's TLS configuration from the PEM files of
// etcd_guard: the CA that signs the servers (empty: the system's pool), and
// the client's certificate and key (both or neither).
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
		}
		c.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("cert_file/key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// EventKind says what an Event reports.
type EventKind int

// The events of a guard.
const (
	// Renewed: the lease was granted or renewed by a request sent At.
	Renewed EventKind = iota + 1
	// LeaseLost: the lease is gone (expired, revoked, refused); every key
	// it held is lost. A new lease is granted on the next round.
	LeaseLost
	// HolderChanged: etcd says Key is now held by Holder ("" nobody).
	HolderChanged
)

// Event is one report of a guard to the daemon's loop.
type Event struct {
	Kind EventKind
	// Lease is the lease renewed or lost (Renewed, LeaseLost).
	Lease  int64
	At     time.Time
	Key    string
	Holder string
	// Revision is etcd's revision the HolderChanged report is of (the
	// change's, or the read's): State.HolderAt orders it against the
	// acquisitions.
	Revision int64
	Why      string
}

// Guard is a running etcd guard: a client, one lease kept alive, and the
// watches of the keys asked for. Close stops it all.
type Guard struct {
	cfg Config
	log *slog.Logger
	// cli is made by the first round that reaches etcd (connect); under mu.
	cli    *clientv3.Client
	events chan Event

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	lease     clientv3.LeaseID
	renewedAt time.Time
	watched   map[string]bool
	// Counters for metrics and status.
	renewals, grants, losses, failures uint64
	lastErr                            string
}

// eventBuffer is how many events wait for the loop; when it is full the
// oldest Renewed is the one dropped (Lease gives the latest anyway).
const eventBuffer = 256

// New connects a guard and starts keeping its lease alive. It does not wait
// for etcd: an unreachable etcd shows as no lease (and no key) until it
// answers. Events come on Events.
func New(cfg Config, log *slog.Logger) (*Guard, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("guard %s: no endpoints", cfg.Name)
	}
	if cfg.TTL < time.Second {
		return nil, fmt.Errorf("guard %s: ttl %v: want at least 1 s", cfg.Name, cfg.TTL)
	}
	if cfg.Node == "" {
		return nil, fmt.Errorf("guard %s: no node name", cfg.Name)
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = min(cfg.TTL/4, time.Second)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{cfg: cfg, log: log.With("guard", cfg.Name), events: make(chan Event, eventBuffer), watched: map[string]bool{}}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.wg.Add(1)
	go g.keepAlive()
	return g, nil
}

// connectTimeout bounds the client's first connection and, with
// authentication, its first token.
func (g *Guard) connectTimeout() time.Duration { return max(g.cfg.CallTimeout, time.Second) }

// connect makes the etcd client. With authentication etcd's client asks
// for a token as it starts, so it fails while etcd is unreachable or the
// password is wrong: the lease's rounds call connect again until it works
// (and log why not), so the daemon starts whatever etcd's state.
func (g *Guard) connect() (*clientv3.Client, error) {
	g.mu.Lock()
	cli := g.cli
	g.mu.Unlock()
	if cli != nil {
		return cli, nil
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            g.cfg.Endpoints,
		DialTimeout:          g.connectTimeout(),
		DialKeepAliveTime:    g.cfg.TTL,
		DialKeepAliveTimeout: g.cfg.CallTimeout,
		TLS:                  g.cfg.TLS,
		Username:             g.cfg.Username,
		Password:             g.cfg.Password,
		DialOptions:          g.cfg.DialOptions,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.cli = cli
	g.mu.Unlock()
	return cli, nil
}

// client is the etcd client once connected, or nil.
func (g *Guard) client() *clientv3.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cli
}

// errNotConnected is returned by calls made before the client connected.
var errNotConnected = errors.New("not connected to etcd yet")

// Events are the guard's reports, for the daemon's loop.
func (g *Guard) Events() <-chan Event { return g.events }

// TTL is the lease's time to live.
func (g *Guard) TTL() time.Duration { return g.cfg.TTL }

// Lease returns the current lease and when it was last renewed, as sent;
// ok is false while there is none.
func (g *Guard) Lease() (id int64, renewedAt time.Time, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int64(g.lease), g.renewedAt, g.lease != 0
}

// Stats are the guard's counters.
type Stats struct {
	// Failures counts the rounds that could not reach etcd (connect,
	// grant or renewal failed or timed out).
	Grants, Renewals, Losses, Failures uint64
	LastError                          string
}

// Stats returns the guard's counters.
func (g *Guard) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Stats{Grants: g.grants, Renewals: g.renewals, Losses: g.losses, Failures: g.failures, LastError: g.lastErr}
}

func (g *Guard) emit(ev Event) {
	select {
	case g.events <- ev:
		return
	default:
	}
	// Full: drop the oldest event to make room; a Renewed lost is
	// repeated by the next renewal, and Lease has the latest.
	select {
	case old := <-g.events:
		if old.Kind != Renewed {
			g.log.Warn("guard event dropped: the daemon's loop is behind", "event", old.Kind)
		}
	default:
	}
	select {
	case g.events <- ev:
	default:
	}
}

func (g *Guard) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(clientv3.WithRequireLeader(g.ctx), g.cfg.CallTimeout)
}

// keepAlive grants the lease and renews it every TTL/4, recording each
// renewal's send time; after a round that failed it tries again soon
// (roundDelay), not a whole period later. It ends with the guard.
func (g *Guard) keepAlive() {
	defer g.wg.Done()
	for {
		ok := g.round()
		select {
		case <-g.ctx.Done():
			return
		case <-time.After(roundDelay(g.cfg.TTL, ok)):
		}
	}
}

// roundDelay is the pause before the lease's next round: a quarter of the
// ttl after a round that reached etcd, an eighth of that (at least 50 ms)
// after one that did not. The VIPs' kernel lifetimes are whole seconds
// rounded down from the key's deadline (1 s at ttl 2), so one renewal lost
// to a timeout, followed by a wait of a full period, let the kernel expire
// a VIP that the next renewal would have kept: the guarded chaos runs saw
// those short outages after brief etcd faults. A retry right after the
// failure renews before the lifetime runs out; the pause keeps a refused
// connection from spinning.
func roundDelay(ttl time.Duration, ok bool) time.Duration {
	period := ttl / 4
	if ok {
		return period
	}
	return max(period/8, 50*time.Millisecond)
}

// round is one grant or renewal; it reports false when it failed or found
// the lease lost, so that the next round (a retry, or the grant of a new
// lease) comes soon.
func (g *Guard) round() bool {
	cli, err := g.connect()
	if err != nil {
		g.fail("connect", err)
		return false
	}
	g.mu.Lock()
	id, renewedAt := g.lease, g.renewedAt
	g.mu.Unlock()
	sent := g.cfg.Now()
	if id != 0 && !sent.Before(renewedAt.Add(g.cfg.TTL)) {
		// Not renewed for a whole TTL: etcd may have let the lease go; a
		// fresh one (and a re-acquisition, which finds our name on the
		// key if the old lease lives on) is the safe way on.
		g.lost(id, "not renewed for a whole ttl")
		id = 0
	}
	// Not g.ctx: a grant cut short by Close could leave a lease in etcd
	// that we never learn of (and cannot revoke); Close waits for the
	// round instead, at most CallTimeout.
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(context.Background()), g.cfg.CallTimeout)
	defer cancel()
	if id == 0 {
		r, err := cli.Grant(ctx, int64(g.cfg.TTL/time.Second))
		if err != nil {
			g.fail("grant", err)
			return false
		}
		g.mu.Lock()
		g.lease, g.renewedAt, g.lastErr = r.ID, sent, ""
		g.grants++
		g.mu.Unlock()
		g.log.Info("guard lease granted", "lease", fmt.Sprintf("%x", int64(r.ID)), "ttl", r.TTL)
		g.emit(Event{Kind: Renewed, At: sent, Lease: int64(r.ID)})
		return true
	}
	r, err := cli.KeepAliveOnce(ctx, id)
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		g.lost(id, "lease not found in etcd (expired or revoked)")
		return false
	case err != nil:
		g.fail("renew", err)
		return false
	case r.TTL <= 0:
		g.lost(id, "lease expired in etcd")
		return false
	default:
		g.mu.Lock()
		if g.lease == id && sent.After(g.renewedAt) {
			g.renewedAt = sent
		}
		g.renewals++
		g.lastErr = ""
		g.mu.Unlock()
		g.emit(Event{Kind: Renewed, At: sent, Lease: int64(id)})
	}
	return true
}

func (g *Guard) fail(what string, err error) {
	if g.ctx.Err() != nil {
		return
	}
	g.mu.Lock()
	first := g.lastErr == ""
	g.lastErr = fmt.Sprintf("%s: %v", what, err)
	g.failures++
	g.mu.Unlock()
	if first {
		g.log.Warn("guard cannot reach etcd: its instances give up mastership at their deadline", "op", what, "err", err)
	}
}

func (g *Guard) lost(id clientv3.LeaseID, why string) {
	g.mu.Lock()
	if g.lease != id {
		g.mu.Unlock()
		return
	}
	g.lease = 0
	g.losses++
	g.mu.Unlock()
	g.log.Warn("guard lease lost", "lease", fmt.Sprintf("%x", int64(id)), "why", why)
	g.emit(Event{Kind: LeaseLost, At: g.cfg.Now(), Lease: int64(id), Why: why})
}

// ErrNoLease is returned by Acquire while the guard has no lease (etcd not
// reached yet, or the lease just lost).
var ErrNoLease = errors.New("no etcd lease")

// Acquisition is the outcome of Acquire.
type Acquisition struct {
	// Held says this node holds the key, under Lease last renewed at
	// RenewedAt (State.Acquired's arguments).
	Held      bool
	Lease     int64
	RenewedAt time.Time
	// Holder is who holds the key (this node when Held; "" nobody).
	Holder string
	// SameName says the key bears this node's name under a lease that is
	// not this guard's: a second node with the same name, or this node's
	// previous run until its lease expires. Held is false.
	SameName bool
	// Revision is etcd's revision of the transaction (State.AcquiredAt).
	Revision int64
}

// Acquire takes key for this node under the guard's lease if nobody holds
// it, or refreshes it if it is already ours: this node's name under this
// guard's current lease. A key that bears this node's name under another
// lease is not taken: it is another node given the same name (a copied
// router_id or host name), or this node's previous run, whose VIPs are
// bounded by that lease; either way it is someone else's until that lease
// ends. Acquisition.SameName reports it, so the daemon can say so.
func (g *Guard) Acquire(ctx context.Context, key string) (Acquisition, error) {
	g.mu.Lock()
	id, renewedAt := g.lease, g.renewedAt
	g.mu.Unlock()
	cli := g.client()
	if id == 0 || cli == nil {
		return Acquisition{}, ErrNoLease
	}
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), g.cfg.CallTimeout)
	defer cancel()
	put := clientv3.OpPut(key, g.cfg.Node, clientv3.WithLease(id))
	r, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(put).
		Else(clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "=", g.cfg.Node),
				clientv3.Compare(clientv3.LeaseValue(key), "=", id)},
			[]clientv3.Op{put},
			[]clientv3.Op{clientv3.OpGet(key)})).
		Commit()
	if err != nil {
		return Acquisition{}, fmt.Errorf("guard %s: acquire %s: %w", g.cfg.Name, key, err)
	}
	mine := Acquisition{Held: true, Lease: int64(id), RenewedAt: renewedAt, Holder: g.cfg.Node, Revision: r.Header.Revision}
	if r.Succeeded {
		return mine, nil
	}
	inner := r.Responses[0].GetResponseTxn()
	if inner.Succeeded {
		return mine, nil
	}
	a := Acquisition{Revision: r.Header.Revision}
	if kvs := inner.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		a.Holder = string(kvs[0].Value)
		a.SameName = a.Holder == g.cfg.Node
	}
	return a, nil
}

// Release deletes key if it is ours (this node's name under this guard's
// current lease), so that a peer can take it at once (graceful handover);
// it is not an error if it is not. A key under another lease is left
// alone, even with this node's name: it may be another node's.
func (g *Guard) Release(ctx context.Context, key string) error {
	cli := g.client()
	if cli == nil {
		return fmt.Errorf("guard %s: release %s: %w", g.cfg.Name, key, errNotConnected)
	}
	g.mu.Lock()
	id := g.lease
	g.mu.Unlock()
	if id == 0 {
		return nil // no lease: no key of ours (it went with the lease)
	}
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), g.cfg.CallTimeout)
	defer cancel()
	_, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.Value(key), "=", g.cfg.Node),
			clientv3.Compare(clientv3.LeaseValue(key), "=", id)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return fmt.Errorf("guard %s: release %s: %w", g.cfg.Name, key, err)
	}
	return nil
}

// Holder asks etcd who holds key ("" nobody).
func (g *Guard) Holder(ctx context.Context, key string) (string, error) {
	cli := g.client()
	if cli == nil {
		return "", fmt.Errorf("guard %s: get %s: %w", g.cfg.Name, key, errNotConnected)
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.CallTimeout)
	defer cancel()
	r, err := cli.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("guard %s: get %s: %w", g.cfg.Name, key, err)
	}
	if len(r.Kvs) == 0 {
		return "", nil
	}
	return string(r.Kvs[0].Value), nil
}

// Watch reports key's holder as HolderChanged events from now on (the
// current one first), until Close; watching a key twice is one watch. A
// broken watch (a member cut off, a compaction) is started again.
func (g *Guard) Watch(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.watched[key] || g.ctx.Err() != nil {
		return
	}
	g.watched[key] = true
	g.wg.Add(1)
	go g.watch(key)
}

func (g *Guard) watch(key string) {
	defer g.wg.Done()
	for g.ctx.Err() == nil {
		g.watchOnce(key)
		select {
		case <-g.ctx.Done():
		case <-time.After(g.cfg.TTL / 4):
		}
	}
}

func (g *Guard) watchOnce(key string) {
	cli := g.client()
	if cli == nil {
		return
	}
	ctx, cancel := g.call()
	r, err := cli.Get(ctx, key)
	cancel()
	if err != nil {
		return
	}
	holder := ""
	if len(r.Kvs) > 0 {
		holder = string(r.Kvs[0].Value)
	}
	g.emit(Event{Kind: HolderChanged, At: g.cfg.Now(), Key: key, Holder: holder, Revision: r.Header.Revision})
	wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(g.ctx))
	defer wcancel()
	for wr := range cli.Watch(wctx, key, clientv3.WithRev(r.Header.Revision+1)) {
		if wr.Err() != nil {
			return
		}
		for _, ev := range wr.Events {
			h := ""
			if ev.Type == clientv3.EventTypePut {
				h = string(ev.Kv.Value)
			}
			g.emit(Event{Kind: HolderChanged, At: g.cfg.Now(), Key: key, Holder: h, Revision: ev.Kv.ModRevision})
		}
	}
}

// Close stops the guard. With revoke it first revokes the lease (bounded
// by CallTimeout), which deletes every key it holds at once: the graceful
// stop. Without, the keys live until the lease expires, as after a crash.
// Close waits for the guard's goroutines and closes the client.
func (g *Guard) Close(revoke bool) error {
	// Stop the lease's rounds first, so that none grants a new lease
	// behind the revoke.
	g.cancel()
	g.wg.Wait()
	g.mu.Lock()
	id, cli := g.lease, g.cli
	g.lease = 0
	g.mu.Unlock()
	if cli == nil {
		return nil
	}
	var err error
	if revoke && id != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.CallTimeout)
		_, err = cli.Revoke(ctx, id)
		cancel()
		if err != nil {
			err = fmt.Errorf("guard %s: revoke: %w (the keys go when the lease expires)", g.cfg.Name, err)
		}
	}
	if cerr := cli.Close(); cerr != nil && err == nil && !errors.Is(cerr, context.Canceled) {
		err = cerr
	}
	return err
}
