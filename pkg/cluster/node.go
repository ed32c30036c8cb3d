package cluster

import (
	"context"
	"net/netip"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// Node is what the operator logic needs from one node. Implementations
// must be safe for concurrent calls of their methods: WhoOwns and Status
// ask for the addresses and the daemon at once.
type Node interface {
	// Name is the node's name as hactl prints it.
	Name() string
	// Addresses lists the node's interfaces and their addresses. An error
	// means the node could not be asked.
	Addresses(ctx context.Context) ([]Interface, error)
	// Daemon describes the VRRP daemon on the node: hactl (through its
	// control socket), keepalived, or none. An error means the node could
	// not be asked; "no daemon" is not an error.
	Daemon(ctx context.Context) (*Daemon, error)
}

// Interface is one network interface of a node.
type Interface struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	// MAC is the link-layer address (empty for links without one).
	MAC string `json:"mac,omitempty"`
	Up  bool   `json:"up"`
	// Addrs are the interface's addresses with their prefix lengths.
	Addrs []netip.Prefix `json:"addrs"`
}

// Daemon kinds.
const (
	DaemonHactl      = "hactl"
	DaemonKeepalived = "keepalived"
	DaemonNone       = "none"
)

// Where a daemon's instance states come from.
const (
	// SourceSocket: hactl's control API (GET /v1/status).
	SourceSocket = "control_socket"
	// SourceKeepalivedJSON: keepalived's own JSON dump (SIGFUNC=JSON,
	// /tmp/keepalived.json).
	SourceKeepalivedJSON = "keepalived_json"
	// SourceInferred: keepalived runs but its state could not be read;
	// states are inferred from the addresses the node holds.
	SourceInferred = "inferred"
)

// Daemon is the VRRP daemon found on a node.
type Daemon struct {
	// Kind is hactl, keepalived or none.
	Kind string `json:"kind"`
	// Version is the daemon's version ("2.2.7" for keepalived).
	Version string `json:"version,omitempty"`
	// PID is the daemon's (main) process.
	PID int `json:"pid,omitempty"`
	// StartedAt is when the daemon started (hactl only).
	StartedAt time.Time `json:"started_at,omitzero"`
	// StateSource says where the instance states come from.
	StateSource string `json:"state_source,omitempty"`
	// Instances are the daemon's VRRP instances (empty when unknown).
	Instances []Instance `json:"instances"`
	// Note explains a degraded answer (why a state is inferred).
	Note string `json:"note,omitempty"`
}

// Instance is one VRRP instance on a node.
type Instance struct {
	Name      string `json:"name"`
	Interface string `json:"interface,omitempty"`
	VRID      int    `json:"vrid,omitempty"`
	// State is INIT, BACKUP, MASTER, FAULT or STOP (keepalived's dump
	// may say STATE-n for a number hactl does not know).
	State api.State `json:"state"`
	// StateInferred is set when State was guessed from the addresses the
	// node holds, not read from the daemon.
	StateInferred bool `json:"state_inferred,omitempty"`
	// Since is when the instance entered State (zero when unknown).
	Since             time.Time `json:"since,omitzero"`
	BasePriority      int       `json:"base_priority"`
	EffectivePriority int       `json:"effective_priority"`
	// VIPs are the configured virtual addresses.
	VIPs []netip.Prefix `json:"vips"`
	// Held are the VIPs found on the node's interfaces now (exact address
	// match, from the node's addresses, whatever the daemon believes).
	Held []netip.Addr `json:"held"`
	// FailingTrackers names the trackers that fail now (hactl only).
	FailingTrackers []string `json:"failing_trackers"`
	// LeaseSeconds is the VIPs' kernel lifetime, 0 for permanent; nil when
	// unknown.
	LeaseSeconds *int `json:"lease_seconds,omitempty"`
	// Promotion is a sticky promotion set by hactl failover.
	Promotion *api.Promotion `json:"promotion,omitempty"`
	// Conflicts are other routers advertising this VRID differently, as
	// the hactl daemon heard them (hactl only).
	Conflicts []api.Conflict `json:"conflicts,omitempty"`
	// VIPsRestored counts the VIPs deleted by someone else while master
	// that the hactl daemon added back; LastVIPDeleted is when the last
	// went (hactl only; absent when none).
	VIPsRestored   uint64     `json:"vips_restored,omitempty"`
	LastVIPDeleted *time.Time `json:"last_vip_deleted,omitempty"`
	// RoutesRestored, RulesRestored and VMACsRecreated count the same for
	// the instance's virtual routes and rules and its VMACs (hactl only;
	// absent when none).
	RoutesRestored uint64 `json:"routes_restored,omitempty"`
	RulesRestored  uint64 `json:"rules_restored,omitempty"`
	VMACsRecreated uint64 `json:"vmacs_recreated,omitempty"`
	// Guard is the instance's etcd guard and key as the hactl daemon sees
	// them: the holder etcd reports, whether this node holds it (hactl
	// only; absent when unguarded).
	Guard *api.InstanceGuard `json:"guard,omitempty"`

	// Preempt says whether a higher-priority backup takes mastership
	// from a lower-priority master (nil when unknown). Not in the JSON
	// documents: failover and restart-safe use it to predict preemption.
	Preempt *bool `json:"-"`
	// PreemptDelay is keepalived's preempt_delay (0: none or unknown).
	PreemptDelay time.Duration `json:"-"`
	// AdvertInterval is the configured advertisement interval (0 when
	// unknown).
	AdvertInterval time.Duration `json:"-"`
}

// preempts reports whether the instance takes mastership back from a
// lower-priority master: keepalived's and hactl's default unless known to
// be off (nopreempt).
func (in *Instance) preempts() bool { return in.Preempt == nil || *in.Preempt }

// masterDown bounds how long any backup of the instance waits before it
// acts: the Master_Down_Interval of the lowest priority, 0, whose skew is
// one whole interval (4 × interval: more than any backup's, VRRPv2's
// included); 3 s when the interval is unknown.
func (in *Instance) masterDown() time.Duration {
	if in == nil || in.AdvertInterval <= 0 {
		return 3 * time.Second
	}
	return vrrp.MasterDownInterval(vrrp.Version3, 0, in.AdvertInterval)
}

// configures reports whether a is one of the instance's VIPs.
func (in *Instance) configures(a netip.Addr) bool {
	for _, p := range in.VIPs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// fromAPI converts a hactl control-API instance.
func fromAPI(in api.Instance) Instance {
	out := Instance{
		Name: in.Name, Interface: in.Interface, VRID: in.VRID, State: in.State, Since: in.Since,
		BasePriority: in.BasePriority, EffectivePriority: in.EffectivePriority,
		Promotion: in.Promotion, FailingTrackers: []string{}, VIPs: []netip.Prefix{}, Held: []netip.Addr{},
		Conflicts: in.Conflicts, VIPsRestored: in.Counters.VIPsRestored, LastVIPDeleted: in.LastVIPDeleted,
		RoutesRestored: in.Counters.RoutesRestored, RulesRestored: in.Counters.RulesRestored, VMACsRecreated: in.Counters.VMACsRecreated,
		Guard: in.Guard,
	}
	lease := in.LeaseSeconds
	out.LeaseSeconds = &lease
	preempt := in.Preempt
	out.Preempt = &preempt
	out.AdvertInterval = time.Duration(in.AdvertIntervalMS) * time.Millisecond
	for _, v := range in.VIPs {
		if p, err := parsePrefixOrAddr(v); err == nil {
			out.VIPs = append(out.VIPs, p)
		}
	}
	for _, t := range in.Trackers {
		if !t.OK {
			out.FailingTrackers = append(out.FailingTrackers, t.Kind+" "+t.Name)
		}
	}
	return out
}

// parsePrefixOrAddr reads "10.0.0.1/24" or "10.0.0.1" (a /32 or /128).
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// holds lists the interfaces and prefixes on which addr is configured:
// the address must match exactly; the prefix length does not matter.
func holds(ifs []Interface, addr netip.Addr) []Held {
	addr = addr.Unmap().WithZone("")
	var out []Held
	for _, ifc := range ifs {
		for _, p := range ifc.Addrs {
			if p.Addr().Unmap().WithZone("") == addr {
				out = append(out, Held{Address: addr, PrefixLen: p.Bits(), Interface: ifc.Name})
			}
		}
	}
	return out
}

// Held is an address found on a node's interface.
type Held struct {
	Address   netip.Addr `json:"address"`
	PrefixLen int        `json:"prefix_len"`
	Interface string     `json:"interface"`
}

// String is "10.77.0.100/24 on eth0".
func (h Held) String() string {
	return netip.PrefixFrom(h.Address, h.PrefixLen).String() + " on " + h.Interface
}
