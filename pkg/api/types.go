package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// Paths of the /v1 API.
const (
	PathStatus   = "/v1/status"
	PathInstance = "/v1/instances/" // + NAME; + NAME + "/promote"
	PathReload   = "/v1/reload"
	PathMetrics  = "/metrics"
)

// State is a VRRP instance's state as the API, the CLI and their JSON
// spell it (keepalived's words). The one vocabulary of states above
// pkg/vrrp: pkg/cluster and pkg/cli use these constants.
type State string

// VRRP states.
const (
	StateInit   State = "INIT"
	StateBackup State = "BACKUP"
	StateMaster State = "MASTER"
	StateFault  State = "FAULT"
	StateStop   State = "STOP"
)

// Ready reports whether an instance in state s can take over at once:
// MASTER or BACKUP, not INIT, FAULT or STOP.
func (s State) Ready() bool { return s == StateMaster || s == StateBackup }

// Status is the answer of GET /v1/status: the daemon and every instance.
type Status struct {
	Daemon    Daemon     `json:"daemon"`
	Instances []Instance `json:"instances"`
	// Drops counts received packets dropped, by the validation rule they
	// failed (ttl, checksum, auth, interval, unknown_peer, malformed...).
	Drops map[string]uint64 `json:"drops"`
	// Sockets are the daemon's raw VRRP sockets, one per interface and
	// family, with what they received that no validation rule counts.
	Sockets []Socket `json:"sockets"`
	// Interfaces are the node's network interfaces with every address
	// they hold, read through netlink when the request came (not from the
	// loop's view), so the CLI learns what the node holds without running
	// a remote command. Null when the daemon could not read them
	// (InterfacesError says why) and absent from daemons older than this
	// field: the CLI then runs its probe for the addresses.
	Interfaces      []Interface `json:"interfaces"`
	InterfacesError string      `json:"interfaces_error,omitempty"`
	// Guards are the etcd guards the daemon runs (docs/guard.md), one per
	// etcd_guard some instance uses; absent without any.
	Guards []Guard `json:"guards,omitempty"`
}

// Guard is one etcd guard as the daemon runs it: its lease in etcd.
type Guard struct {
	Name      string   `json:"name"`
	Endpoints []string `json:"endpoints"`
	// Node is the name this node writes to the keys it holds.
	Node  string `json:"node"`
	TTLMS int64  `json:"ttl_ms"`
	// LeaseOK says the guard has a lease renewed recently enough to hold
	// keys (it reaches etcd); false: its instances are in FAULT and hold
	// no VIP. Lease is the lease's ID in hex, RenewedAt when its last
	// answered renewal was sent.
	LeaseOK   bool      `json:"lease_ok"`
	Lease     string    `json:"lease,omitempty"`
	RenewedAt time.Time `json:"renewed_at,omitzero"`
	// Renewals and RenewalFailures count the lease's keep-alive rounds
	// answered and failed (etcd unreachable or slow); Grants the leases
	// granted, Losses the leases lost.
	Renewals        uint64 `json:"renewals"`
	RenewalFailures uint64 `json:"renewal_failures"`
	Grants          uint64 `json:"grants"`
	Losses          uint64 `json:"losses"`
	// LastError is the last failure to reach etcd, cleared by the next
	// success.
	LastError string `json:"last_error,omitempty"`
}

// InstanceGuard is a guarded instance's key (docs/guard.md).
type InstanceGuard struct {
	// Guard names the etcd_guard; Key is the instance's key in etcd.
	Guard string `json:"guard"`
	Key   string `json:"key"`
	// Holder is who holds the key as etcd last told this node (from its
	// watch or its last acquisition; "" nobody or not known yet).
	Holder string `json:"holder"`
	// Held says this node holds the key now (under a lease whose
	// deadline has not passed); Deadline is then the last instant it may
	// hold the VIPs without another renewal.
	Held     bool      `json:"held"`
	Deadline time.Time `json:"deadline,omitzero"`
	// NoKey says the instance is VRRP master without the key: it holds
	// no VIP and keeps asking etcd ("MASTER (no key)").
	NoKey bool `json:"no_key,omitempty"`
	// LeaseOK says the guard has an etcd lease renewed within its
	// deadline; false: this node cannot reach etcd, and the instance is
	// in FAULT.
	LeaseOK bool `json:"lease_ok"`
	// Why says why the key is not held (not acquired yet, held by
	// another node, lease lost...).
	Why string `json:"why,omitempty"`
	// Acquisitions and Losses count the key taken and lost while master.
	Acquisitions uint64 `json:"acquisitions"`
	Losses       uint64 `json:"losses"`
}

// Interface is one network interface of the daemon's host (its network
// namespace), as netlink reports it.
type Interface struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	// MAC is the link-layer address (empty for links without one).
	MAC string `json:"mac,omitempty"`
	// Up is the administrative state (IFF_UP); OperState the kernel's
	// operational state (up, down, lowerlayerdown, unknown...).
	Up        bool   `json:"up"`
	OperState string `json:"oper_state,omitempty"`
	// Addrs are every address of the interface, IPv4 and IPv6, exactly as
	// configured (any prefix length), tentative and deprecated ones too.
	Addrs []Address `json:"addrs"`
}

// Address is one address of an interface.
type Address struct {
	// Prefix is the address with its prefix length ("10.0.0.1/23").
	Prefix string `json:"prefix"`
	// Flags are the kernel's IFA_F_ flags that matter to an owner check,
	// lower case: secondary, nodad, deprecated, tentative, dadfailed,
	// permanent, noprefixroute.
	Flags []string `json:"flags,omitempty"`
	// ValidSeconds and PreferredSeconds are the remaining lifetimes;
	// absent when forever.
	ValidSeconds     *uint32 `json:"valid_seconds,omitempty"`
	PreferredSeconds *uint32 `json:"preferred_seconds,omitempty"`
}

// Socket is one raw VRRP socket of the daemon.
type Socket struct {
	Interface string `json:"interface"`
	Family    string `json:"family"` // inet or inet6
	// OtherVRID counts valid-looking adverts for VRIDs that no instance on
	// this socket runs: other clusters on a shared segment, normal
	// traffic, so neither a drop reason nor a warning.
	OtherVRID uint64 `json:"other_vrid"`
	// KernelDrops counts packets the kernel dropped because the socket's
	// receive buffer was full (SO_RXQ_OVFL): the daemon did not keep up.
	// The kernel reports it with the next packet received.
	KernelDrops uint64 `json:"kernel_drops"`
}

// Daemon describes the running daemon.
type Daemon struct {
	Name       string    `json:"name"` // "hactl"
	Version    string    `json:"version"`
	PID        int       `json:"pid"`
	Hostname   string    `json:"hostname"`
	StartedAt  time.Time `json:"started_at"`
	ConfigFile string    `json:"config_file"`
	// ReloadedAt is the last successful reload; LastReloadError the last
	// failed one (the running config was kept).
	ReloadedAt      time.Time `json:"reloaded_at,omitzero"`
	LastReloadError string    `json:"last_reload_error,omitempty"`
	// StaticRoutesRestored counts the static routes (with dev, without
	// no_track) deleted from the host by someone else and added back.
	StaticRoutesRestored uint64 `json:"static_routes_restored"`
}

// Instance is one VRRP instance as the daemon runs it.
type Instance struct {
	Name      string `json:"name"`
	Interface string `json:"interface"`
	VRID      int    `json:"vrid"`
	Family    string `json:"family"` // inet or inet6
	Version   int    `json:"version"`
	State     State  `json:"state"`
	// Since is when the instance entered State.
	Since             time.Time `json:"since"`
	BasePriority      int       `json:"base_priority"`
	EffectivePriority int       `json:"effective_priority"`
	AdvertIntervalMS  int64     `json:"advert_interval_ms"`
	Preempt           bool      `json:"preempt"`
	// VIPs are the configured addresses; Holding tells whether they are on
	// the interface now (only in MASTER).
	VIPs    []string `json:"vips"`
	Holding bool     `json:"holding"`
	// LeaseSeconds is the VIPs' kernel lifetime; 0 means permanent.
	LeaseSeconds int `json:"lease_seconds"`
	// LastVIPDeleted is when a VIP was last deleted from the host by
	// someone else while this node was master (the daemon added it back:
	// Counters.VIPsRestored); absent when that never happened.
	LastVIPDeleted *time.Time `json:"last_vip_deleted,omitempty"`
	// Master is the master this instance last heard (or itself).
	Master    *Peer      `json:"master,omitempty"`
	Promotion *Promotion `json:"promotion,omitempty"`
	Trackers  []Tracker  `json:"trackers"`
	SyncGroup string     `json:"sync_group,omitempty"`
	Counters  Counters   `json:"counters"`
	// Conflicts are other routers advertising this VRID on the segment
	// with a different VIP set, version, interval or authentication
	// (keepalived's "bogus VRRP packet"); ConflictCounts counts their
	// packets by difference (vips, version, interval, auth). Conflicts
	// holds at most 64 sources, the most recently heard;
	// ConflictSourcesEvicted counts the sources dropped from it to make
	// room (a flood from random sources shows here).
	Conflicts              []Conflict        `json:"conflicts"`
	ConflictCounts         map[string]uint64 `json:"conflict_counts"`
	ConflictSourcesEvicted uint64            `json:"conflict_sources_evicted"`
	// Guard is the instance's etcd guard and key; absent when unguarded.
	Guard *InstanceGuard `json:"guard,omitempty"`
}

// Conflict is one source that advertises our VRID differently.
type Conflict struct {
	Source      string    `json:"source"`
	Differences []string  `json:"differences"`
	Packets     uint64    `json:"packets"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// Peer is a router heard on the segment.
type Peer struct {
	Address  string    `json:"address"`
	Priority int       `json:"priority"`
	LastSeen time.Time `json:"last_seen"`
}

// Promotion is a sticky mastership override set by `hactl failover`.
type Promotion struct {
	Since time.Time `json:"since"`
	// ExpiresAt is zero when the promotion lasts until cleared.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Tracker is one tracked script, interface or file of an instance.
type Tracker struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // script, interface, file or process
	OK     bool   `json:"ok"`
	Weight int    `json:"weight"`
}

// Counters are per-instance packet and transition counts.
type Counters struct {
	AdvertsSent     uint64 `json:"adverts_sent"`
	AdvertsReceived uint64 `json:"adverts_received"`
	BecameMaster    uint64 `json:"became_master"`
	Dropped         uint64 `json:"dropped"`
	// VIPsRestored counts VIPs deleted from the host by someone else
	// while this node was master, and added back at once.
	VIPsRestored uint64 `json:"vips_restored"`
	// RoutesRestored counts the instance's virtual routes deleted from
	// the host by someone else while this node was master (or with a VIP
	// deleted so), and added back at once.
	RoutesRestored uint64 `json:"routes_restored"`
	// RulesRestored counts the instance's virtual rules (without
	// no_track) deleted from the host by someone else while this node
	// was master, and added back at once.
	RulesRestored uint64 `json:"rules_restored"`
	// VMACsRecreated counts the instance's VMACs (use_vmac) deleted
	// under the daemon and made again.
	VMACsRecreated uint64 `json:"vmacs_recreated,omitempty"`
}

// PromoteRequest is the body of POST /v1/instances/NAME/promote. An empty
// body promotes until cleared.
type PromoteRequest struct {
	// For bounds the promotion, as a Go duration ("90s", "2h"); empty or
	// zero means until cleared.
	For Duration `json:"for,omitempty"`
}

// ReloadResult is the answer of POST /v1/reload.
type ReloadResult struct {
	Reloaded bool `json:"reloaded"`
	// Diagnostics are the config's warnings (and errors, when refused),
	// each "file:line:col: message".
	Diagnostics []string `json:"diagnostics"`
}

// Error is the body of every 4xx and 5xx answer.
type Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"` // bad_request, not_found, forbidden, method_not_allowed, conflict, internal, unavailable
	Message string `json:"error"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code) }

// Duration is a time.Duration that reads and writes as a Go duration
// string in JSON ("90s"); it also reads a number of seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90s" or 90 (seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want a string such as \"90s\" or a number of seconds")
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}
