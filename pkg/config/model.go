package config

import (
	"net/netip"
	"time"
)

// Config is the resolved VRRP configuration: keepalived's defaults are
// filled in and keepalived's corrections applied (see docs/config.md).
type Config struct {
	// Files lists every file read, the main file first.
	Files      []string     `json:"files"`
	Global     GlobalDefs   `json:"global_defs"`
	Scripts    []*Script    `json:"vrrp_scripts"`
	TrackFiles []*TrackFile `json:"track_files"`
	Instances  []*Instance  `json:"instances"`
	SyncGroups []*SyncGroup `json:"sync_groups"`
	// Ignored lists the sections and keywords outside hactl's VRRP subset
	// that were parsed for syntax and then skipped.
	Ignored []Ignored `json:"ignored"`
}

// Ignored is a section or keyword that hactl parses but does not use.
type Ignored struct {
	Keyword string `json:"keyword"`
	Pos     Pos    `json:"pos"`
	// ownWarning: the keyword is partial or not implemented, warned
	// about by name rather than in the "hactl ignores" list.
	ownWarning bool
}

// GlobalDefs holds the global_defs keywords hactl uses, and hactl's own
// daemon-wide settings.
type GlobalDefs struct {
	RouterID             string     `json:"router_id"`
	VRRPVersion          int        `json:"vrrp_version"`
	McastGroup4          netip.Addr `json:"vrrp_mcast_group4"`
	McastGroup6          netip.Addr `json:"vrrp_mcast_group6"`
	ScriptUser           string     `json:"script_user,omitempty"`
	ScriptGroup          string     `json:"script_group,omitempty"`
	EnableScriptSecurity bool       `json:"enable_script_security"`
	Strict               bool       `json:"vrrp_strict"`
	// GARP holds the vrrp_garp_* defaults every instance starts from.
	GARP GARP `json:"garp"`
	// GARPInterval and GNAInterval are the gaps between successive
	// gratuitous ARPs / unsolicited neighbour advertisements.
	GARPInterval time.Duration `json:"-"`
	GNAInterval  time.Duration `json:"-"`
	StartupDelay time.Duration `json:"-"`

	// hactl's own keywords.

	// StateFile and ControlSocket are where the daemon writes its state
	// and listens for the CLI.
	StateFile     string `json:"state_file"`
	ControlSocket string `json:"control_socket"`
	// NotifyMasterDir and VIPLease are defaults for every instance.
	NotifyMasterDir string        `json:"notify_master_dir,omitempty"`
	VIPLease        time.Duration `json:"-"`
}

// GARP holds the gratuitous ARP / unsolicited NA settings of an instance.
type GARP struct {
	// MasterDelay is the wait after becoming master before the second
	// burst of gratuitous ARPs; 0 disables it.
	MasterDelay time.Duration `json:"-"`
	// MasterRepeat is the number of gratuitous ARPs in a burst.
	MasterRepeat int `json:"master_repeat"`
	// MasterRefresh is the period of refresh bursts while master; 0 none.
	MasterRefresh time.Duration `json:"-"`
	// MasterRefreshRepeat is the number of gratuitous ARPs in a refresh.
	MasterRefreshRepeat int `json:"master_refresh_repeat"`
	// LowerPrioDelay and LowerPrioRepeat apply when a lower-priority
	// advertisement is received while master.
	LowerPrioDelay  time.Duration `json:"-"`
	LowerPrioRepeat int           `json:"lower_prio_repeat"`
}

// Command is a script to run: its argv and the user and group to run it as
// (empty means the global script_user, or keepalived's default).
type Command struct {
	Args  []string `json:"args"`
	User  string   `json:"user,omitempty"`
	Group string   `json:"group,omitempty"`
	Pos   Pos      `json:"pos"`
}

// Script is a vrrp_script block: a check run periodically.
type Script struct {
	Name     string        `json:"name"`
	Pos      Pos           `json:"pos"`
	Command  Command       `json:"command"`
	Interval time.Duration `json:"-"`
	// Timeout is how long a run may last; 0 means the interval.
	Timeout time.Duration `json:"-"`
	Weight  int           `json:"weight"`
	// WeightReverse makes a failing script add the weight instead.
	WeightReverse bool `json:"weight_reverse"`
	Rise          int  `json:"rise"`
	Fall          int  `json:"fall"`
	// InitFail starts the script in the failed state.
	InitFail bool `json:"init_fail"`
}

// TrackFile is a track_file block: a file holding a number that is
// multiplied by the weight and added to the priority.
type TrackFile struct {
	Name          string `json:"name"`
	Pos           Pos    `json:"pos"`
	File          string `json:"file"`
	Weight        int    `json:"weight"`
	WeightReverse bool   `json:"weight_reverse"`
	// InitFile asks for the file to be created with InitValue when it is
	// missing (or always, with Overwrite).
	InitFile  bool `json:"init_file"`
	InitValue int  `json:"init_value"`
	Overwrite bool `json:"overwrite"`
}

// Family is an address family.
type Family string

// The address families.
const (
	FamilyIPv4 Family = "inet"
	FamilyIPv6 Family = "inet6"
)

// State is an instance's initial state.
type State string

// The initial states.
const (
	StateMaster State = "MASTER"
	StateBackup State = "BACKUP"
)

// Instance is a vrrp_instance, resolved: everything the state machine and
// the netlink side need.
type Instance struct {
	Name string `json:"name"`
	Pos  Pos    `json:"pos"`
	// Interface is the interface adverts are sent on (empty only for
	// unicast instances with unicast_src_ip).
	Interface string `json:"interface"`
	// InterfacePos is where interface was given.
	InterfacePos Pos    `json:"-"`
	VRID         int    `json:"virtual_router_id"`
	Family       Family `json:"family"`
	Version      int    `json:"version"`
	// State is the initial state; when absent it is MASTER for priority
	// 255 and BACKUP otherwise.
	State    State `json:"state"`
	Priority int   `json:"priority"`
	// AdvertInt is the advertisement interval, already rounded the way
	// keepalived rounds it (whole seconds for v2, centiseconds for v3).
	AdvertInt    time.Duration `json:"-"`
	Preempt      bool          `json:"preempt"`
	PreemptDelay time.Duration `json:"-"`
	// Auth is VRRPv2 authentication (simple password or IPsec AH), nil
	// for none.
	Auth *Auth `json:"authentication,omitempty"`
	// SrcIP is the source of adverts from unicast_src_ip or mcast_src_ip;
	// invalid (zero) means the interface's primary address.
	SrcIP netip.Addr `json:"src_ip,omitzero"`
	// Unicast is set when unicast peers are configured; McastGroup is
	// the destination otherwise.
	Unicast      bool          `json:"unicast"`
	UnicastPeers []UnicastPeer `json:"unicast_peers"`
	McastGroup   netip.Addr    `json:"mcast_group,omitzero"`
	// VIPs are advertised; ExcludedVIPs are configured but not advertised.
	VIPs         []VIP   `json:"virtual_ipaddress"`
	ExcludedVIPs []VIP   `json:"virtual_ipaddress_excluded"`
	Routes       []Route `json:"virtual_routes"`

	TrackInterfaces  []TrackInterface `json:"track_interface"`
	TrackScripts     []TrackRef       `json:"track_script"`
	TrackFiles       []TrackRef       `json:"track_file"`
	DontTrackPrimary bool             `json:"dont_track_primary"`

	Notify Notify `json:"notify"`
	GARP   GARP   `json:"garp"`
	// Accept makes the master accept packets for its VIPs (accept mode).
	Accept bool `json:"accept"`
	Strict bool `json:"strict_mode"`
	// UseVMAC asks for a macvlan interface with the VRRP MAC; VMACName is
	// its name when given.
	UseVMAC  bool   `json:"use_vmac"`
	VMACName string `json:"vmac_name,omitempty"`

	// hactl's own keywords.

	// NotifyMasterDir is a directory whose executables all run, in name
	// order, on becoming master.
	NotifyMasterDir string `json:"notify_master_dir,omitempty"`
	// VIPLease is the kernel lifetime given to VIPs, renewed while
	// master; 0 means permanent addresses.
	VIPLease time.Duration `json:"-"`
	// SyncGroup is the name of the sync group the instance belongs to.
	SyncGroup string `json:"sync_group,omitempty"`
}

// Auth is VRRPv2 authentication.
type Auth struct {
	Type     string `json:"type"` // "PASS" or "AH" (IPsec AH, VRRPv2 over IPv4 only)
	Password string `json:"password"`
}

// UnicastPeer is one unicast_peer line.
type UnicastPeer struct {
	Addr   netip.Addr `json:"address"`
	MinTTL int        `json:"min_ttl"`
	MaxTTL int        `json:"max_ttl"`
	Pos    Pos        `json:"pos"`
}

// VIP is a virtual (or excluded) address with its options.
type VIP struct {
	// Prefix is the address with its prefix length (/32 or /128 when
	// none was given); host bits are kept.
	Prefix netip.Prefix `json:"address"`
	// Dev is the interface; empty means the instance's.
	Dev       string     `json:"dev,omitempty"`
	Label     string     `json:"label,omitempty"`
	Broadcast netip.Addr `json:"broadcast,omitzero"`
	// Scope is a route scope name or number as written (global, host,
	// link, site, nowhere or 0-255); empty is global.
	Scope   string     `json:"scope,omitempty"`
	Peer    netip.Addr `json:"peer,omitzero"`
	NoTrack bool       `json:"no_track,omitempty"`
	NoDAD   bool       `json:"nodad,omitempty"`
	// PreferredLft is the IPv6 preferred lifetime in seconds when set;
	// nil means the kernel default.
	PreferredLft *uint32 `json:"preferred_lft,omitempty"`
	// Options keeps other flags as written (home, noprefixroute,
	// autojoin, mngtmpaddr, use_vmac).
	Options []string `json:"options,omitempty"`
	Pos     Pos      `json:"pos"`
}

// Route is a virtual_routes line. It is parsed here and applied by the
// daemon.
type Route struct {
	// Type is empty for a unicast route, or blackhole, unreachable,
	// prohibit or throw.
	Type   string       `json:"type,omitempty"`
	Dest   netip.Prefix `json:"to"`
	Src    netip.Addr   `json:"src,omitzero"`
	Via    netip.Addr   `json:"via,omitzero"`
	Dev    string       `json:"dev,omitempty"`
	Scope  string       `json:"scope,omitempty"`
	Table  string       `json:"table,omitempty"`
	Metric *uint32      `json:"metric,omitempty"`
	// Options keeps the other keywords and their values as written.
	Options []string `json:"options,omitempty"`
	NoTrack bool     `json:"no_track,omitempty"`
	Pos     Pos      `json:"pos"`
}

// TrackInterface is a tracked interface: with weight 0 the instance goes to
// FAULT when the interface is down, otherwise the weight is added to (or,
// with Reverse, subtracted from) the priority.
type TrackInterface struct {
	Name    string `json:"name"`
	Weight  int    `json:"weight"`
	Reverse bool   `json:"reverse,omitempty"`
	Pos     Pos    `json:"pos"`
}

// TrackRef refers to a vrrp_script or track_file by name, with the weight
// in force for this instance (the script's or file's own, or an override).
type TrackRef struct {
	Name    string `json:"name"`
	Weight  int    `json:"weight"`
	Reverse bool   `json:"reverse,omitempty"`
	Pos     Pos    `json:"pos"`
}

// Notify holds the notification scripts of an instance or sync group; nil
// fields are not configured.
type Notify struct {
	Master *Command `json:"master,omitempty"`
	Backup *Command `json:"backup,omitempty"`
	Fault  *Command `json:"fault,omitempty"`
	Stop   *Command `json:"stop,omitempty"`
	// Any is the generic "notify" script, called with the type, name,
	// state and priority appended.
	Any *Command `json:"any,omitempty"`
}

// SyncGroup is a vrrp_sync_group: instances that change state together.
type SyncGroup struct {
	Name            string           `json:"name"`
	Pos             Pos              `json:"pos"`
	Instances       []string         `json:"group"`
	Notify          Notify           `json:"notify"`
	TrackInterfaces []TrackInterface `json:"track_interface"`
	TrackScripts    []TrackRef       `json:"track_script"`
	TrackFiles      []TrackRef       `json:"track_file"`
	// TrackingWeight (sync_group_tracking_weight) lets members keep the
	// weights of their trackers; otherwise keepalived sets them to 0.
	TrackingWeight bool `json:"sync_group_tracking_weight"`
}
