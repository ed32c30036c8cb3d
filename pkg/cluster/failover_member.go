package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/remote"
)

// Member is a node that failover and restart-safe can change, not only
// ask: every Observe is a fresh look (no caching, unlike SSHNode), and the
// control API's promotions and a remote shell are at hand.
type Member interface {
	// Name is the node's name as hactl prints it.
	Name() string
	// Observe asks the node now: its addresses and its daemon.
	Observe(ctx context.Context) (*Observation, error)
	// Promote sets a sticky promotion of instance on the node's hactl
	// daemon (d 0: until cleared).
	Promote(ctx context.Context, instance string, d time.Duration) error
	// ClearPromotion removes it.
	ClearPromotion(ctx context.Context, instance string) error
	// Run runs a shell command line on the node and returns its combined
	// output; a non-zero exit is an error.
	Run(ctx context.Context, script string, timeout time.Duration) (string, error)
}

// Observation is one look at a node.
type Observation struct {
	Node   string
	At     time.Time
	Ifs    []Interface
	Daemon *Daemon
	// API is the hactl daemon's own answer (nil for keepalived and none).
	API *api.Status
}

// Instance returns the hactl instance of that name (nil when absent).
func (o *Observation) Instance(name string) *api.Instance {
	if o == nil || o.API == nil {
		return nil
	}
	for i := range o.API.Instances {
		if o.API.Instances[i].Name == name {
			return &o.API.Instances[i]
		}
	}
	return nil
}

// ClusterInstance returns the instance of that name in the Daemon form
// (hactl or keepalived; nil when absent or unknown).
func (o *Observation) ClusterInstance(name string) *Instance {
	if o == nil || o.Daemon == nil {
		return nil
	}
	for i := range o.Daemon.Instances {
		if o.Daemon.Instances[i].Name == name {
			return &o.Daemon.Instances[i]
		}
	}
	return nil
}

// Holds reports whether the node has one of addrs on an interface.
func (o *Observation) Holds(addrs []netip.Addr) bool {
	if o == nil {
		return false
	}
	for _, a := range addrs {
		if len(holds(o.Ifs, a)) > 0 {
			return true
		}
	}
	return false
}

// SSHMember is a Member reached through pkg/remote: one remote command
// (the same probe as SSHNode) and one control-socket call per Observe.
type SSHMember struct {
	c *remote.Client
}

// NewSSHMember returns the member behind c.
func NewSSHMember(c *remote.Client) *SSHMember { return &SSHMember{c: c} }

// Name is the node's name.
func (m *SSHMember) Name() string { return m.c.Node.Name }

// Socket is the control socket's path on the node.
func (m *SSHMember) Socket() string {
	if m.c.Node.Socket != "" {
		return m.c.Node.Socket
	}
	return remote.DefaultSocket
}

func (m *SSHMember) api() *api.Client {
	return api.NewClient(func(ctx context.Context) (net.Conn, error) { return m.c.DialSocket(ctx, "") })
}

// Observe runs the probe and asks the control socket, at once.
func (m *SSHMember) Observe(ctx context.Context) (*Observation, error) {
	o := &Observation{Node: m.Name(), At: time.Now()}
	var st *api.Status
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cl := m.api()
		defer cl.CloseIdleConnections()
		st, serr = cl.Status(ctx)
	}()
	res, err := m.c.RunCommand(ctx, remote.Command{Script: addrProbe + keepalivedProbe})
	wg.Wait()
	err = shortCommandError(err, addrProbe+keepalivedProbe)
	var xe *remote.ExitError
	if err != nil && (res == nil || !errors.As(err, &xe)) {
		return nil, nodeErr(m.Name(), err)
	}
	p := parseProbe(res.Stdout)
	if p.addrErr != "" || len(p.addrOut) == 0 {
		return nil, nodeErr(m.Name(), fmt.Errorf("ip -j addr show failed (is iproute2 installed?): %s", firstLine(p.addrOut)))
	}
	if o.Ifs, err = ParseIPAddrJSON(p.addrOut); err != nil {
		return nil, nodeErr(m.Name(), err)
	}
	o.API, o.Daemon, err = memberDaemon(ctx, m.Socket(), st, serr, p)
	if err != nil {
		return nil, nodeErr(m.Name(), err)
	}
	return o, nil
}

// memberDaemon is the daemon of a member from its control socket's answer
// (st, serr) and the probe's. A socket that opened but answered badly (a
// 503 of a daemon whose loop does not answer, garbage, no answer in time)
// is the node's error, not "no daemon": an operation must not take it for
// keepalived or none. The waits of failover and restart-safe poll through
// such errors (a restarting daemon); the pre-checks refuse with them.
func memberDaemon(ctx context.Context, socket string, st *api.Status, serr error, p probeResult) (*api.Status, *Daemon, error) {
	if serr == nil {
		return st, hactlDaemon(st), nil
	}
	if fault := socketFault(ctx, socket, serr, 0); fault != nil {
		return nil, nil, fault
	}
	if d := p.keepalivedDaemon(); d != nil {
		return nil, d, nil
	}
	return nil, &Daemon{Kind: DaemonNone, Instances: []Instance{}, Note: refusedNote(socket, serr)}, nil
}

// Promote calls POST /v1/instances/NAME/promote.
func (m *SSHMember) Promote(ctx context.Context, instance string, d time.Duration) error {
	cl := m.api()
	defer cl.CloseIdleConnections()
	_, err := cl.Promote(ctx, instance, api.PromoteRequest{For: api.Duration(d)})
	return nodeErr(m.Name(), err)
}

// ClearPromotion calls DELETE /v1/instances/NAME/promote.
func (m *SSHMember) ClearPromotion(ctx context.Context, instance string) error {
	cl := m.api()
	defer cl.CloseIdleConnections()
	_, err := cl.ClearPromotion(ctx, instance)
	return nodeErr(m.Name(), err)
}

// Run runs script through the node's shell.
func (m *SSHMember) Run(ctx context.Context, script string, timeout time.Duration) (string, error) {
	res, err := m.c.RunCommand(ctx, remote.Command{Script: script, Combined: true, Timeout: timeout})
	out := ""
	if res != nil {
		out = string(res.Stdout)
	}
	return out, err
}

// observeAll asks every member at once (at most parallel at a time;
// remote.DefaultLimit when 0); errs[i] is set for those that could not be
// asked.
func observeAll(ctx context.Context, ms []Member, timeout time.Duration, parallel int) ([]*Observation, []error) {
	obs := make([]*Observation, len(ms))
	errs := make([]error, len(ms))
	remote.Bounded(ctx, len(ms), parallel, func(ctx context.Context, i int) {
		c, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			c, cancel = context.WithTimeout(ctx, timeout)
		}
		defer cancel()
		obs[i], errs[i] = ms[i].Observe(c)
		if errs[i] != nil {
			errs[i] = nodeErr(ms[i].Name(), errs[i])
		}
	}, func(i int, err error) { errs[i] = nodeErr(ms[i].Name(), err) })
	return obs, errs
}

// Snapshot is the cluster's state for one instance at one moment, as
// failover and restart-safe report it.
type Snapshot struct {
	At       time.Time      `json:"at"`
	Instance string         `json:"instance"`
	Owners   []string       `json:"owners"`
	Nodes    []SnapshotNode `json:"nodes"`
}

// SnapshotNode is one node's part of a Snapshot.
type SnapshotNode struct {
	Node      string    `json:"node"`
	Reachable bool      `json:"reachable"`
	Error     string    `json:"error,omitempty"`
	Daemon    string    `json:"daemon,omitempty"`
	PID       int       `json:"pid,omitempty"`
	State     api.State `json:"state,omitempty"`
	Priority  int       `json:"effective_priority,omitempty"`
	Holds     bool      `json:"holds"`
	Promoted  bool      `json:"promoted,omitempty"`
}

func snapshot(instance string, vips []netip.Addr, ms []Member, obs []*Observation, errs []error) Snapshot {
	s := Snapshot{At: time.Now(), Instance: instance, Owners: []string{}}
	for i, m := range ms {
		n := SnapshotNode{Node: m.Name()}
		if errs[i] != nil || obs[i] == nil {
			if errs[i] != nil {
				n.Error = errs[i].Error()
			}
			s.Nodes = append(s.Nodes, n)
			continue
		}
		o := obs[i]
		n.Reachable, n.Daemon, n.PID = true, o.Daemon.Kind, o.Daemon.PID
		if in := o.ClusterInstance(instance); in != nil {
			n.State, n.Priority, n.Promoted = in.State, in.EffectivePriority, in.Promotion != nil
		}
		n.Holds = o.Holds(vips)
		if n.Holds {
			s.Owners = append(s.Owners, n.Node)
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s
}

// String describes the snapshot in one line per node, for the exit-5
// account of the cluster's state.
func (s Snapshot) String() string {
	var b strings.Builder
	switch len(s.Owners) {
	case 0:
		b.WriteString("nobody holds the VIP")
	case 1:
		b.WriteString(s.Owners[0] + " holds the VIP")
	default:
		b.WriteString("SPLIT BRAIN: " + strings.Join(s.Owners, " and ") + " hold the VIP")
	}
	for _, n := range s.Nodes {
		if !n.Reachable {
			fmt.Fprintf(&b, "\n  %s: could not be asked: %s", n.Node, n.Error)
			continue
		}
		fmt.Fprintf(&b, "\n  %s: %s", n.Node, n.Daemon)
		if n.PID != 0 {
			fmt.Fprintf(&b, " (pid %d)", n.PID)
		}
		if n.State != "" {
			fmt.Fprintf(&b, ", %s %s priority %d", s.Instance, n.State, n.Priority)
		}
		if n.Promoted {
			b.WriteString(", promoted")
		}
		if n.Holds {
			b.WriteString(", holds the VIP")
		}
	}
	return b.String()
}

// owners lists the members holding one of vips in obs.
func owners(ms []Member, obs []*Observation, vips []netip.Addr) []string {
	var out []string
	for i, o := range obs {
		if o.Holds(vips) {
			out = append(out, ms[i].Name())
		}
	}
	return out
}

func memberIndex(ms []Member, name string) int {
	return slices.IndexFunc(ms, func(m Member) bool { return m.Name() == name })
}
