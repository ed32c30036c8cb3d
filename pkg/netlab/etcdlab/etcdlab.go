//go:build linux

package etcdlab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/guard"
	"github.com/hactl/hactl/pkg/netlab"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Binary is where Debian's etcd-server puts etcd.
const Binary = "/usr/bin/etcd"

// ClientPort and PeerPort are the ports every member listens on, on its
// host's lab address.
const (
	ClientPort = 2379
	PeerPort   = 2380
)

// StartTimeout bounds how long Start waits for a healthy cluster with a
// leader; a member started again is waited for as long.
const StartTimeout = 20 * time.Second

// Options are the knobs of a cluster; the zero value is the lab's default.
type Options struct {
	// DataRoot holds one data directory per member (a test's t.TempDir()).
	DataRoot string
	// Heartbeat and Election are etcd's --heartbeat-interval and
	// --election-timeout (default 50 ms and 500 ms: a lost leader is
	// replaced in about a second).
	Heartbeat, Election time.Duration
	// Token is the --initial-cluster-token (default the lab's name).
	Token string
	// TLS, when set, makes the members serve clients over https with
	// these files (WriteTLS); the peers stay on http.
	TLS *TLS
}

// Member is one etcd member on a lab host.
type Member struct {
	Name    string
	Host    *netlab.Host
	DataDir string
	// ClientURL and PeerURL are the member's advertised URLs.
	ClientURL, PeerURL string

	argv []string
	proc *netlab.Proc
	// tls is the health check's TLS configuration, nil for http.
	tls *tls.Config
	// killed is set by Kill and cleared by Restart: a member down on
	// purpose, which the health checks pass over.
	killed bool
}

// Cluster is a running etcd cluster.
type Cluster struct {
	Members []*Member
	// tls is the lab's own clients' TLS configuration, nil for http;
	// files are Options.TLS.
	tls   *tls.Config
	files *TLS
}

func url(a netip.Addr, port int) string { return schemeURL("http", a, port) }

func schemeURL(scheme string, a netip.Addr, port int) string {
	return scheme + "://" + net.JoinHostPort(a.String(), fmt.Sprint(port))
}

// Start starts one member on each host (at least one), waits until every
// member answers and the cluster has a leader, and returns the cluster.
// On failure what was started is stopped again. Close stops it.
func Start(ctx context.Context, hosts []*netlab.Host, o Options) (*Cluster, error) {
	if len(hosts) == 0 {
		return nil, errors.New("etcdlab: no hosts")
	}
	if _, err := os.Stat(Binary); err != nil {
		return nil, fmt.Errorf("etcdlab: %w (install Debian's etcd-server: make deps)", err)
	}
	if o.DataRoot == "" {
		return nil, errors.New("etcdlab: Options.DataRoot is required")
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 50 * time.Millisecond
	}
	if o.Election == 0 {
		o.Election = 500 * time.Millisecond
	}
	if o.Token == "" {
		o.Token = "hactl-lab"
	}
	c := &Cluster{}
	scheme := "http"
	if o.TLS != nil {
		// The lab's own clients (health checks, Client) present the
		// client certificate, as a guard with the files would.
		cfg, err := guard.TLSConfig(o.TLS.CA, o.TLS.ClientCert, o.TLS.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("etcdlab: TLS: %w", err)
		}
		c.tls, c.files, scheme = cfg, o.TLS, "https"
	}
	var initial []string
	for i, h := range hosts {
		m := &Member{Name: fmt.Sprintf("etcd%d", i+1), Host: h, DataDir: filepath.Join(o.DataRoot, fmt.Sprintf("etcd%d", i+1)),
			ClientURL: schemeURL(scheme, h.Addr4, ClientPort), PeerURL: url(h.Addr4, PeerPort), tls: c.tls}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range c.Members {
		m.argv = []string{Binary,
			"--name", m.Name, "--data-dir", m.DataDir,
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", o.Token,
			"--heartbeat-interval", fmt.Sprint(o.Heartbeat.Milliseconds()),
			"--election-timeout", fmt.Sprint(o.Election.Milliseconds()),
			"--logger", "zap", "--log-level", "warn"}
		if o.TLS != nil {
			m.argv = append(m.argv, o.TLS.args()...)
		}
		if err := os.MkdirAll(m.DataDir, 0o700); err != nil {
			c.Close()
			return nil, err
		}
		if err := m.start(); err != nil {
			c.Close()
			return nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := c.WaitHealthy(wctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (m *Member) start() error {
	p, err := m.Host.Start(m.Name, m.argv...)
	if err != nil {
		return fmt.Errorf("etcdlab: %s on %s: %w", m.Name, m.Host.Name, err)
	}
	m.proc = p
	return nil
}

// Running reports whether the member's process is alive.
func (m *Member) Running() bool {
	if m.proc == nil {
		return false
	}
	select {
	case <-m.proc.Done():
		return false
	default:
		return true
	}
}

// Log returns the last n bytes of the member's log, for a failing test.
func (m *Member) Log(n int) string {
	if m.proc == nil {
		return ""
	}
	b, err := os.ReadFile(m.proc.Log)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// Dialer returns a gRPC dial option that opens the client's connections
// inside host h's namespace, so a client in the test process reaches the
// lab as a process on h would.
func Dialer(h *netlab.Host) grpc.DialOption {
	return grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		return h.Dial(ctx, "tcp", addr)
	})
}

// Client returns a client of the whole cluster whose connections leave
// from host h. The caller closes it.
func (c *Cluster) Client(h *netlab.Host) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   c.Endpoints(),
		DialTimeout: 2 * time.Second,
		DialOptions: []grpc.DialOption{Dialer(h)},
		TLS:         c.tls,
		Logger:      zap.NewNop(),
	})
}

// status asks one member for its view: its own ID and the leader's.
func (m *Member) status(ctx context.Context) (id, leader uint64, err error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{m.ClientURL},
		DialTimeout: time.Second,
		DialOptions: []grpc.DialOption{Dialer(m.Host)},
		TLS:         m.tls,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return 0, 0, err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := cli.Status(ctx, m.ClientURL)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", m.Name, err)
	}
	return st.Header.MemberId, st.Leader, nil
}

// WaitHealthy returns once every running member answers and agrees on a
// leader, or ctx ends (the error names the member that did not answer).
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last error
	for {
		if last = c.healthy(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcdlab: cluster not healthy: %w", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) healthy(ctx context.Context) error {
	var leader uint64
	ids := map[uint64]bool{}
	for _, m := range c.Members {
		if !m.Running() {
			if m.proc == nil || m.killed {
				continue
			}
			return fmt.Errorf("%s exited (log %s): %s", m.Name, m.proc.Log, m.Log(400))
		}
		id, l, err := m.status(ctx)
		if err != nil {
			return err
		}
		ids[id] = true
		if l == 0 {
			return fmt.Errorf("%s: no leader", m.Name)
		}
		if leader != 0 && l != leader {
			return fmt.Errorf("%s: leader %x, another member says %x", m.Name, l, leader)
		}
		leader = l
	}
	if leader == 0 {
		return errors.New("no member running")
	}
	if !ids[leader] {
		// The others have not yet noticed that their leader is gone.
		return fmt.Errorf("leader %x is not running", leader)
	}
	return nil
}

// Leader returns the index in Members of the current leader.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	var last error
	for i, m := range c.Members {
		if !m.Running() {
			continue
		}
		id, l, err := m.status(ctx)
		if err != nil {
			last = err
			continue
		}
		if id == l {
			return i, nil
		}
	}
	if last == nil {
		last = errors.New("no member is the leader")
	}
	return -1, fmt.Errorf("etcdlab: leader: %w", last)
}

// Kill kills member i with SIGKILL and waits until it has exited.
func (c *Cluster) Kill(i int) error {
	m := c.Members[i]
	if !m.Running() {
		return nil
	}
	m.killed = true
	if err := m.proc.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("etcdlab: kill %s: %w", m.Name, err)
	}
	select {
	case <-m.proc.Done():
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("etcdlab: %s still running 5 s after SIGKILL", m.Name)
	}
}

// Restart starts a killed member again on its data directory and waits
// until the cluster is healthy with it.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	m := c.Members[i]
	if m.Running() {
		return fmt.Errorf("etcdlab: %s is running", m.Name)
	}
	if err := m.start(); err != nil {
		return err
	}
	m.killed = false
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	return c.WaitHealthy(ctx)
}

// Close stops every member (SIGTERM, then SIGKILL after a second) and
// waits for them.
func (c *Cluster) Close() {
	for _, m := range c.Members {
		if m.proc != nil {
			_ = m.proc.Stop(time.Second)
		}
	}
}

const cutTable = "etcdlab"

// Cut drops every packet between host h and the cluster's client port
// (nftables in h's namespace, both ways), as a firewall or a broken route
// to etcd would. Heal undoes it.
func (c *Cluster) Cut(ctx context.Context, h *netlab.Host) error {
	return c.nft(ctx, h, "cut", fmt.Sprintf(`
		chain out { type filter hook output priority -5; ip daddr { %[1]s } tcp dport %[2]d drop; }
		chain in { type filter hook input priority -5; ip saddr { %[1]s } tcp sport %[2]d drop; }`, c.addrList(), ClientPort))
}

// Isolate cuts member i from its peers (their peer port, both ways), so it
// loses quorum and, if it led, leadership. Heal undoes it.
func (c *Cluster) Isolate(ctx context.Context, i int) error {
	return c.nft(ctx, c.Members[i].Host, "isolate", fmt.Sprintf(`
		chain out { type filter hook output priority -5; ip daddr { %[1]s } tcp dport %[2]d drop; ip daddr { %[1]s } tcp sport %[2]d drop; }
		chain in { type filter hook input priority -5; ip saddr { %[1]s } tcp sport %[2]d drop; ip saddr { %[1]s } tcp dport %[2]d drop; }`, c.addrList(), PeerPort))
}

// Heal removes what Cut or Isolate put on host h.
func (c *Cluster) Heal(ctx context.Context, h *netlab.Host) error {
	out, err := h.Run(ctx, "nft", "delete", "table", "inet", cutTable)
	if err != nil && !strings.Contains(string(out), "No such file") {
		return fmt.Errorf("etcdlab: heal %s: %w", h.Name, err)
	}
	return nil
}

func (c *Cluster) addrList() string {
	var as []string
	for _, m := range c.Members {
		as = append(as, m.Host.Addr4.String())
	}
	return strings.Join(as, ", ")
}

func (c *Cluster) nft(ctx context.Context, h *netlab.Host, what, chains string) error {
	script := fmt.Sprintf("table inet %s {%s\n}\n", cutTable, chains)
	path := filepath.Join(h.Dir, "etcdlab-"+what+".nft")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return err
	}
	if _, err := h.Run(ctx, "nft", "-f", path); err != nil {
		return fmt.Errorf("etcdlab: %s %s: %w", what, h.Name, err)
	}
	return nil
}

// GuardBlock is an etcd_guard block naming the cluster's members, for the
// config of a guarded lab node (docs/config.md, "etcd_guard NAME"); a TLS
// cluster's block names its CA and client certificate.
func (c *Cluster) GuardBlock(name string, ttl int) string {
	tlsLines := ""
	if f := c.files; f != nil {
		tlsLines = fmt.Sprintf("    ca_file %s\n    cert_file %s\n    key_file %s\n", f.CA, f.ClientCert, f.ClientKey)
	}
	return fmt.Sprintf("etcd_guard %s {\n    endpoints %s\n    ttl %d\n%s}\n", name, strings.Join(c.Endpoints(), " "), ttl, tlsLines)
}
