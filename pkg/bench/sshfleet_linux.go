//go:build linux

package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/inventory"
	"golang.org/x/crypto/ssh"
)

// SSHFleet is a fleet of fake nodes served by an SSH server in this
// process (golang.org/x/crypto/ssh) on loopback: one listener per node
// (127.0.0.1, a port of its own) with a host key of its own, so that the
// operator's side pays what it pays for real nodes: one TCP connection,
// key exchange, host-key check and public-key authentication per node.
// Each node answers what hactl asks a node: an exec'd command (any) gets
// the probe script's output for the node's canned addresses, and with
// daemons a direct-streamlocal@openssh.com channel to any path is served
// by the real control-API handler (daemon/control.Handler) over a canned
// backend. node1 holds the VIP (benchVIP) and is MASTER of its instance.
//
// It is the scale harness of issue 18: 256 real sshd and namespaces would
// measure this machine's process table, not hactl.
type SSHFleet struct {
	// Dir holds the client files: the key, known_hosts, an empty
	// ssh_config and the inventory.
	Dir string
	// Inventory lists the fleet's nodes (cluster "fleet").
	Inventory string
	// Execs and Streams count the remote commands and the socket
	// channels the nodes were asked for.
	Execs, Streams atomic.Int64

	daemons bool
	nodes   []*fleetNode
	wg      sync.WaitGroup
}

type fleetNode struct {
	name string
	ln   net.Listener
	cfg  *ssh.ServerConfig
	http *http.Server
	// chans feeds the node's accepted socket channels to its http.Server.
	chans *chanListener
	probe []byte // the probe script's output
	ipA   []byte // what `ip a` prints

	mu    sync.Mutex
	conns []net.Conn
}

// StartSSHFleet starts n nodes, with a hactl daemon's control API on each
// when daemons is set, and writes the client files under dir.
func StartSSHFleet(dir string, n int, daemons bool) (_ *SSHFleet, err error) {
	f := &SSHFleet{Dir: dir, Inventory: filepath.Join(dir, "inventory"), daemons: daemons}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	clientPub, err := writeClientKey(filepath.Join(dir, "id_ed25519"))
	if err != nil {
		return nil, err
	}
	inv := &inventory.Cluster{Name: "fleet", Default: true, Common: inventory.Settings{
		User: "root", Identity: filepath.Join(dir, "id_ed25519"),
		KnownHosts: filepath.Join(dir, "known_hosts"), SSHConfig: filepath.Join(dir, "ssh_config"),
	}}
	var known strings.Builder
	for i := 1; i <= n; i++ {
		nd, hostPub, err := f.startNode(i, clientPub)
		if err != nil {
			return nil, err
		}
		port := nd.ln.Addr().(*net.TCPAddr).Port
		fmt.Fprintf(&known, "[127.0.0.1]:%d %s", port, ssh.MarshalAuthorizedKey(hostPub))
		inv.Nodes = append(inv.Nodes, inventory.Node{Name: nd.name, Settings: inventory.Settings{Host: "127.0.0.1", Port: port}})
	}
	if err := os.WriteFile(inv.Common.KnownHosts, []byte(known.String()), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(inv.Common.SSHConfig, []byte("# empty: the inventory says it all\n"), 0o644); err != nil {
		return nil, err
	}
	// OpenSSH's client (the rival) reads the same key and known_hosts.
	var oc strings.Builder
	for _, nd := range inv.Nodes {
		fmt.Fprintf(&oc, "Host %s\n  HostName %s\n  Port %d\n", nd.Name, nd.Host, nd.Port)
	}
	fmt.Fprintf(&oc, "Host *\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n",
		inv.Common.Identity, inv.Common.KnownHosts)
	if err := os.WriteFile(f.OpenSSHConfig(), []byte(oc.String()), 0o644); err != nil {
		return nil, err
	}
	w, err := os.Create(f.Inventory)
	if err != nil {
		return nil, err
	}
	if err := (&inventory.Inventory{File: f.Inventory, Clusters: []*inventory.Cluster{inv}}).Write(w); err != nil {
		w.Close()
		return nil, err
	}
	return f, w.Close()
}

// OpenSSHConfig is the ssh_config for OpenSSH's client: a Host entry per
// node and the fleet's key and known_hosts.
func (f *SSHFleet) OpenSSHConfig() string { return filepath.Join(f.Dir, "ssh_config.openssh") }

// writeClientKey writes an ed25519 key in OpenSSH format (0600).
func writeClientKey(path string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "hactl-bench-fleet")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewPublicKey(pub)
}

func (f *SSHFleet) startNode(i int, client ssh.PublicKey) (*fleetNode, ssh.PublicKey, error) {
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	signer, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		return nil, nil, err
	}
	want := client.Marshal()
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == string(want) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	// The key exchange the lab's sshd and hactl agree on, for hactl and
	// OpenSSH's client alike (x/crypto's server would pick
	// mlkem768x25519-sha256 with hactl, curve25519-sha256 with OpenSSH 9.2).
	cfg.KeyExchanges = []string{FleetKex}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	nd := &fleetNode{name: "node" + strconv.Itoa(i), ln: ln, cfg: cfg, probe: fleetProbe(i), ipA: fleetIPA(i)}
	f.nodes = append(f.nodes, nd)
	if f.daemons {
		nd.chans = newChanListener(ln.Addr())
		nd.http = &http.Server{
			Handler:           control.Handler(fleetBackend{node: i}, control.Policy{ReadGID: -1}, nil, slog.New(slog.DiscardHandler)),
			ReadHeaderTimeout: 5 * time.Second,
			// sshd opens the socket as the login user, root here.
			ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
				return control.WithPeer(ctx, control.Peer{UID: 0, GID: 0})
			},
		}
		f.wg.Add(1)
		go func() { defer f.wg.Done(); _ = nd.http.Serve(nd.chans) }()
	}
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.accept(nd) }()
	return nd, signer.PublicKey(), nil
}

func (f *SSHFleet) accept(nd *fleetNode) {
	for {
		c, err := nd.ln.Accept()
		if err != nil {
			return
		}
		nd.mu.Lock()
		nd.conns = append(nd.conns, c)
		nd.mu.Unlock()
		f.wg.Add(1)
		go func() { defer f.wg.Done(); f.serveConn(nd, c) }()
	}
}

func (f *SSHFleet) serveConn(nd *fleetNode, c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // the handshake
	sc, chans, reqs, err := ssh.NewServerConn(c, nd.cfg)
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go f.session(nd, ch, creqs)
		case "direct-streamlocal@openssh.com":
			f.Streams.Add(1)
			if !f.daemons {
				_ = nc.Reject(ssh.ConnectionFailed, "open failed") // what sshd says when nothing listens
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			go ssh.DiscardRequests(creqs)
			if !nd.chans.push(&chanConn{Channel: ch, addr: nd.ln.Addr()}) {
				ch.Close()
			}
		default:
			_ = nc.Reject(ssh.UnknownChannelType, "not served by the bench fleet")
		}
	}
}

// session answers an exec with the node's probe output and exit status 0;
// env requests are accepted, anything else refused.
func (f *SSHFleet) session(nd *fleetNode, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for r := range reqs {
		switch r.Type {
		case "exec":
			f.Execs.Add(1)
			var cmd struct{ Command string }
			_ = ssh.Unmarshal(r.Payload, &cmd)
			_ = r.Reply(true, nil)
			out, status := nd.answer(cmd.Command)
			_, _ = ch.Write(out)
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
			return
		case "env":
			_ = r.Reply(true, nil)
		default:
			_ = r.Reply(false, nil)
		}
	}
}

// answer is what node nd prints for a remote command, and its exit
// status: hactl's probe script (it prints the @@hactl: markers) gets the
// probe's output; anything else is taken for the runbook's
// `ip a | grep PATTERN` and gets the `ip a` lines holding PATTERN (grep's
// status 1 when none does), or all of `ip a` without a grep.
func (nd *fleetNode) answer(cmd string) ([]byte, uint32) {
	if strings.Contains(cmd, "@@hactl:") {
		return nd.probe, 0
	}
	_, pat, ok := strings.Cut(cmd, "| grep ")
	if !ok {
		return nd.ipA, 0
	}
	pat = strings.Trim(strings.TrimSpace(pat), `'"`)
	var out []byte
	for line := range strings.Lines(string(nd.ipA)) {
		if strings.Contains(line, pat) {
			out = append(out, line...)
		}
	}
	if len(out) == 0 {
		return nil, 1
	}
	return out, 0
}

// Close stops every listener and connection and waits for the handlers.
func (f *SSHFleet) Close() {
	for _, nd := range f.nodes {
		nd.ln.Close()
		if nd.http != nil {
			nd.http.Close()
		}
		nd.mu.Lock()
		for _, c := range nd.conns {
			c.Close()
		}
		nd.mu.Unlock()
	}
	f.wg.Wait()
}

// fleetAddr is node i's own address, in 10.78.0.0/16.
func fleetAddr(i int) string { return fmt.Sprintf("10.78.%d.%d", i/250, 1+i%250) }

// fleetProbe is what the probe script prints on node i: its addresses as
// `ip -j addr show` does (node1 also holds the VIP), and no keepalived.
func fleetProbe(i int) []byte {
	type addr struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		Prefixlen int    `json:"prefixlen"`
	}
	type link struct {
		Ifindex   int      `json:"ifindex"`
		Ifname    string   `json:"ifname"`
		Flags     []string `json:"flags"`
		Operstate string   `json:"operstate"`
		LinkType  string   `json:"link_type"`
		Address   string   `json:"address"`
		AddrInfo  []addr   `json:"addr_info"`
	}
	eth := link{Ifindex: 2, Ifname: "eth0", Flags: []string{"BROADCAST", "MULTICAST", "UP", "LOWER_UP"}, Operstate: "UP",
		LinkType: "ether", Address: fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff),
		AddrInfo: []addr{{"inet", fleetAddr(i), 16}}}
	if i == 1 {
		eth.AddrInfo = append(eth.AddrInfo, addr{"inet", benchVIP.Addr().String(), benchVIP.Bits()})
	}
	links := []link{
		{Ifindex: 1, Ifname: "lo", Flags: []string{"LOOPBACK", "UP", "LOWER_UP"}, Operstate: "UNKNOWN", LinkType: "loopback",
			Address: "00:00:00:00:00:00", AddrInfo: []addr{{"inet", "127.0.0.1", 8}, {"inet6", "::1", 128}}},
		eth,
	}
	b, _ := json.Marshal(links)
	return append(append([]byte("@@hactl:addr\n"), b...), '\n')
}

// fleetIPA is what `ip a` prints on node i: the same addresses as
// fleetProbe, in iproute2's text form.
func fleetIPA(i int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n")
	fmt.Fprintf(&b, "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n")
	fmt.Fprintf(&b, "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n")
	fmt.Fprintf(&b, "    inet6 ::1/128 scope host noprefixroute\n       valid_lft forever preferred_lft forever\n")
	fmt.Fprintf(&b, "2: eth0@if%d: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n", 100+i)
	fmt.Fprintf(&b, "    link/ether 02:00:00:00:%02x:%02x brd ff:ff:ff:ff:ff:ff link-netnsid 0\n", i>>8, i&0xff)
	fmt.Fprintf(&b, "    inet %s/16 brd 10.78.255.255 scope global eth0\n       valid_lft forever preferred_lft forever\n", fleetAddr(i))
	if i == 1 {
		fmt.Fprintf(&b, "    inet %s scope global secondary eth0\n       valid_lft forever preferred_lft forever\n", benchVIP)
	}
	return []byte(b.String())
}

// fleetBackend is node i's canned daemon: one instance, VI_1, MASTER on
// node1 and BACKUP elsewhere. Changes are refused.
type fleetBackend struct{ node int }

var fleetStarted = time.Now().UTC().Truncate(time.Second)

func (b fleetBackend) instance() api.Instance {
	in := api.Instance{Name: "VI_1", Interface: "eth0", VRID: 51, Family: "inet", Version: 3, State: api.StateBackup,
		Since: fleetStarted, BasePriority: backupPrio, EffectivePriority: backupPrio, AdvertIntervalMS: 1000, Preempt: true,
		VIPs: []string{benchVIP.String()}}
	if b.node == 1 {
		in.State, in.BasePriority, in.EffectivePriority, in.Holding = api.StateMaster, masterPrio, masterPrio, true
	}
	return in
}

func (b fleetBackend) Status() (api.Status, error) {
	return api.Status{
		Daemon:    api.Daemon{Name: "hactl", Version: "bench", PID: 1000 + b.node, Hostname: "node" + strconv.Itoa(b.node), StartedAt: fleetStarted, ConfigFile: "/etc/hactl/hactl.conf"},
		Instances: []api.Instance{b.instance()},
		Drops:     map[string]uint64{},
		Sockets:   []api.Socket{{Interface: "eth0", Family: "inet"}},
		// What the daemon reads through netlink: the probe's addresses, so
		// hactl needs no remote command on this node.
		Interfaces: fleetInterfaces(b.node),
	}, nil
}

// fleetInterfaces is node i's interfaces as the control API reports
// them: the addresses of fleetProbe.
func fleetInterfaces(i int) []api.Interface {
	eth := api.Interface{Name: "eth0", Index: 2, MAC: fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff), Up: true, OperState: "up",
		Addrs: []api.Address{{Prefix: fleetAddr(i) + "/16", Flags: []string{"permanent"}}}}
	if i == 1 {
		eth.Addrs = append(eth.Addrs, api.Address{Prefix: benchVIP.String(), Flags: []string{"secondary"}})
	}
	return []api.Interface{
		{Name: "lo", Index: 1, Up: true, OperState: "unknown", Addrs: []api.Address{{Prefix: "127.0.0.1/8", Flags: []string{"permanent"}}, {Prefix: "::1/128", Flags: []string{"permanent"}}}},
		eth,
	}
}

func (b fleetBackend) Instance(name string) (api.Instance, error) {
	if name != "VI_1" {
		return api.Instance{}, fmt.Errorf("instance %q: %w", name, control.ErrNotFound)
	}
	return b.instance(), nil
}

func (fleetBackend) Promote(string, time.Duration) (api.Instance, error) {
	return api.Instance{}, fmt.Errorf("the bench fleet changes nothing: %w", control.ErrInvalid)
}

func (fleetBackend) ClearPromotion(string) (api.Instance, error) {
	return api.Instance{}, fmt.Errorf("the bench fleet changes nothing: %w", control.ErrInvalid)
}

func (fleetBackend) Reload() (api.ReloadResult, error) {
	return api.ReloadResult{}, fmt.Errorf("the bench fleet changes nothing: %w", control.ErrInvalid)
}

// chanListener is a net.Listener of the socket channels a node accepted.
type chanListener struct {
	addr net.Addr
	c    chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, c: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to Accept; false once the listener is closed.
func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.c <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// chanConn is an SSH channel as a net.Conn (deadlines are not supported:
// the http.Server's timeouts do not apply, the fleet's Close does).
type chanConn struct {
	ssh.Channel
	addr net.Addr
}

func (c *chanConn) LocalAddr() net.Addr              { return c.addr }
func (c *chanConn) RemoteAddr() net.Addr             { return c.addr }
func (c *chanConn) SetDeadline(time.Time) error      { return nil }
func (c *chanConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chanConn) SetWriteDeadline(time.Time) error { return nil }

var _ io.ReadWriteCloser = (*chanConn)(nil)
