package config

import (
	"net/netip"
	"slices"
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
	// TrackProcesses are the vrrp_track_process blocks.
	TrackProcesses []*TrackProcess `json:"track_processes"`
	// IfDelays are interface_up_down_delays' lines, by interface.
	IfDelays   []IfDelay    `json:"interface_up_down_delays,omitempty"`
	Instances  []*Instance  `json:"instances"`
	SyncGroups []*SyncGroup `json:"sync_groups"`
	// StaticVIPs, StaticRoutes and StaticRules are the static_ipaddress,
	// static_routes and static_rules blocks: installed when the daemon
	// starts and removed when it exits, whatever the instances' states.
	StaticVIPs   []VIP   `json:"static_ipaddress,omitempty"`
	StaticRoutes []Route `json:"static_routes,omitempty"`
	StaticRules  []Rule  `json:"static_rules,omitempty"`
	// EtcdGuards are hactl's etcd_guard blocks (model_guard.go).
	EtcdGuards []*EtcdGuard `json:"etcd_guards,omitempty"`
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
	// CheckUnicastSrc (vrrp_check_unicast_src) and SkipCheckAdvAddr
	// (vrrp_skip_check_adv_addr) turn the instance keywords on for every
	// instance; resolve has already folded them into each Instance.
	CheckUnicastSrc  bool `json:"vrrp_check_unicast_src"`
	SkipCheckAdvAddr bool `json:"vrrp_skip_check_adv_addr"`
	// GARP holds the vrrp_garp_* defaults every instance starts from.
	GARP GARP `json:"garp"`
	// GARPInterval and GNAInterval are the gaps between successive
	// gratuitous ARPs / unsolicited neighbour advertisements.
	GARPInterval time.Duration `json:"-"`
	GNAInterval  time.Duration `json:"-"`
	StartupDelay time.Duration `json:"-"`
	// Timing holds the instances' defaults of keepalived's timing knobs.
	Timing Timing `json:"timing"`
	// Notify is the notify FIFOs and what is written to them.
	Notify GlobalNotify `json:"notify"`
	// VMACPrefix names the VMAC interfaces (PREFIX.VRID; "vrrp" when
	// empty); VMACAddrPrefix those of use_vmac_addr and a VIP's
	// use_vmac (VMACPrefix when empty).
	VMACPrefix     string `json:"vmac_prefix,omitempty"`
	VMACAddrPrefix string `json:"vmac_addr_prefix,omitempty"`

	// hactl's own keywords.

	// StateFile and ControlSocket are where the daemon writes its state
	// and listens for the CLI.
	StateFile     string `json:"state_file"`
	ControlSocket string `json:"control_socket"`
	// NotifyMasterDir and VIPLease are defaults for every instance.
	NotifyMasterDir string        `json:"notify_master_dir,omitempty"`
	VIPLease        time.Duration `json:"-"`
	// ControlSSH is the daemon's own SSH listener for the control API
	// (control_ssh and its companions); off when Addr is empty.
	ControlSSH ControlSSH `json:"control_ssh,omitzero"`
}

// ControlSSH configures the daemon's SSH listener for the control API
// (daemon/controlssh): global_defs control_ssh ADDR,
// control_ssh_authorized_keys FILE, control_ssh_host_key FILE (repeatable).
type ControlSSH struct {
	// Addr is the listen address ("0.0.0.0:922", "[::]:922"); empty: off.
	Addr string `json:"addr,omitempty"`
	// AuthorizedKeys is root's authorized_keys file ("" means
	// /root/.ssh/authorized_keys).
	AuthorizedKeys string `json:"authorized_keys,omitempty"`
	// HostKeys are the private host key files (none: the node's sshd
	// host keys that exist).
	HostKeys []string `json:"host_keys,omitempty"`
	// Pos, HostKeyPos are where control_ssh and each control_ssh_host_key
	// were written, for errors about the files they name.
	Pos        Pos   `json:"-"`
	HostKeyPos []Pos `json:"-"`
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
	// ExtraIf is the period of the gratuitous ARPs / NAs a master sends on
	// the interfaces that do not carry its adverts (garp_extra_if, formerly
	// vmac_garp_intvl): its VIPs' other VMACs, and with ExtraIfAll every
	// other interface of its VIPs; 0 none.
	ExtraIf    time.Duration `json:"-"`
	ExtraIfAll bool          `json:"extra_if_all,omitempty"`
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
	// Guard names the etcd_guard the instance masters under (hactl's own;
	// a sync group's guard is its members'); GuardPos is where it was set.
	Guard    string `json:"guard,omitempty"`
	GuardPos Pos    `json:"-"`
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
	// UnicastFaultNoPeer (unicast_fault_no_peer) keeps an instance whose
	// unicast_peer list is empty in FAULT instead of falling back to
	// multicast, as keepalived does; ConfigFault says it applies.
	UnicastFaultNoPeer bool `json:"unicast_fault_no_peer"`
	// CheckUnicastSrc (check_unicast_src, or vrrp_check_unicast_src)
	// drops unicast adverts from sources not in UnicastPeers and checks
	// each peer's min_ttl/max_ttl. Without it keepalived, and hactl,
	// accept unicast adverts from any source that authenticates.
	CheckUnicastSrc bool `json:"check_unicast_src"`
	// SkipCheckAdvAddr (skip_check_adv_addr, or vrrp_skip_check_adv_addr)
	// skips the advert address checks for adverts from the current master.
	SkipCheckAdvAddr bool `json:"skip_check_adv_addr"`
	// UnicastTTL (unicast_ttl) is the IPv4 TTL / IPv6 hop limit of
	// unicast adverts; nil is keepalived's default (255 for IPv4, the
	// kernel's default hop limit for IPv6; hactl sends 255 for both).
	UnicastTTL *int `json:"unicast_ttl,omitempty"`
	// ConfigFault, when not empty, is why the instance can only be in
	// FAULT (unicast_fault_no_peer without peers).
	ConfigFault string     `json:"config_fault,omitempty"`
	McastGroup  netip.Addr `json:"mcast_group,omitzero"`
	// VIPs are advertised; ExcludedVIPs are configured but not advertised.
	VIPs         []VIP   `json:"virtual_ipaddress"`
	ExcludedVIPs []VIP   `json:"virtual_ipaddress_excluded"`
	Routes       []Route `json:"virtual_routes"`
	// Rules are the virtual_rules: policy rules installed with the VIPs.
	Rules []Rule `json:"virtual_rules,omitempty"`

	TrackInterfaces  []TrackInterface `json:"track_interface"`
	TrackScripts     []TrackRef       `json:"track_script"`
	TrackFiles       []TrackRef       `json:"track_file"`
	TrackProcesses   []TrackRef       `json:"track_process"`
	DontTrackPrimary bool             `json:"dont_track_primary"`

	Notify Notify `json:"notify"`
	// NotifyDeleted: an instance a reload removes is notified DELETED
	// rather than FAULT. NotifyPriorityChanges is the instance's own
	// notify_priority_changes (nil: the group's, else the global one;
	// see Config.NotifiesPriority).
	NotifyDeleted         bool  `json:"notify_deleted,omitempty"`
	NotifyPriorityChanges *bool `json:"notify_priority_changes,omitempty"`
	GARP                  GARP  `json:"garp"`
	// Timing is the instance's, resolved: its own keywords, else the
	// global ones (strict mode forces RFC 5798's values).
	Timing Timing `json:"timing"`
	// Accept makes the master accept packets for its VIPs (accept mode).
	Accept bool `json:"accept"`
	Strict bool `json:"strict_mode"`
	// UseVMAC asks for a macvlan interface with the virtual router MAC
	// (use_vmac); VMACName is its name when given, VMACAddr its MAC
	// when given (VMACAddrVRID: given with five octets, the sixth is the
	// VRID).
	UseVMAC      bool   `json:"use_vmac"`
	VMACName     string `json:"vmac_name,omitempty"`
	VMACAddr     string `json:"vmac_addr,omitempty"`
	VMACAddrVRID bool   `json:"vmac_addr_vrid,omitempty"`
	// UseVMACAddr gives each VIP on another interface, or of the other
	// family, a VMAC on its interface (use_vmac_addr).
	UseVMACAddr bool `json:"use_vmac_addr,omitempty"`
	// VMACXmitBase sends and receives the adverts on the base interface
	// instead of the VMAC (vmac_xmit_base).
	VMACXmitBase bool `json:"vmac_xmit_base,omitempty"`

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

// UseVMAC reports whether the VIP asks for a VMAC of its own (its
// use_vmac option).
func (v VIP) UseVMAC() bool { return slices.Contains(v.Options, "use_vmac") }

// Route is a virtual_routes (or static_routes) line, in keepalived's
// reading of "ip route" syntax. It is parsed here and applied by the
// daemon.
type Route struct {
	// Type is empty for a unicast route, or blackhole, unreachable,
	// prohibit, throw, local, broadcast, anycast, multicast, nat, or a
	// number.
	Type string `json:"type,omitempty"`
	// Family is the route's family (from its addresses, inet/inet6, or
	// keepalived's default inet).
	Family Family       `json:"family"`
	Dest   netip.Prefix `json:"to"`
	// Src is the preferred source (src); From the IPv6 source prefix.
	Src   netip.Addr   `json:"src,omitzero"`
	From  netip.Prefix `json:"from,omitzero"`
	Via   netip.Addr   `json:"via,omitzero"`
	Dev   string       `json:"dev,omitempty"`
	Scope string       `json:"scope,omitempty"`
	Table string       `json:"table,omitempty"`
	// VRF names the VRF whose table the route goes in (vrf; the later
	// of vrf and table wins, as in keepalived).
	VRF    string  `json:"vrf,omitempty"`
	Metric *uint32 `json:"metric,omitempty"`
	// Protocol is the route's protocol: keepalived's own (18) unless the
	// line says no_track and protocol.
	Protocol uint8  `json:"protocol"`
	Tos      *uint8 `json:"tos,omitempty"`
	Realms   uint32 `json:"realms,omitempty"`
	OnLink   bool   `json:"onlink,omitempty"`
	// Mode is how the route is added: "" (keepalived's default, the
	// kernel's prepend), "add" (fail if it exists) or "append".
	Mode string `json:"mode,omitempty"`
	// Metrics are the RTAX_* values (mtu, advmss, hoplimit, window, rtt,
	// ...) in kernel units, in the order given.
	Metrics []RouteMetric `json:"metrics,omitempty"`
	// Congctl is the congestion control algorithm (RTAX_CC_ALGO).
	Congctl     string `json:"congctl,omitempty"`
	CongctlLock bool   `json:"congctl_lock,omitempty"`
	// Features is RTAX_FEATURES (ecn: 1).
	Features uint32 `json:"features,omitempty"`
	// Pref (RTA_PREF), Expires (RTA_EXPIRES) and TTLPropagate
	// (RTA_TTL_PROPAGATE): nil when not given.
	Pref         *uint8  `json:"pref,omitempty"`
	Expires      *uint32 `json:"expires,omitempty"`
	TTLPropagate *uint8  `json:"ttl_propagate,omitempty"`
	// Nexthops make a multipath route.
	Nexthops []Nexthop `json:"nexthops,omitempty"`
	// Encap is the route's lightweight tunnel (encap ip|ip6|mpls|ila).
	Encap   *RouteEncap `json:"encap,omitempty"`
	NoTrack bool        `json:"no_track,omitempty"`
	Pos     Pos         `json:"pos"`
}

// RouteMetric is one route metric (RTAX_*): its keyword, its value in the
// kernel's units, and whether it is locked.
type RouteMetric struct {
	Name  string `json:"name"`
	Value uint32 `json:"value"`
	Lock  bool   `json:"lock,omitempty"`
}

// Nexthop is one hop of a multipath route.
type Nexthop struct {
	Via netip.Addr `json:"via,omitzero"`
	Dev string     `json:"dev,omitempty"`
	// Weight is 1-256 as written (0: not given, the kernel's 1).
	Weight int  `json:"weight,omitempty"`
	OnLink bool `json:"onlink,omitempty"`
	// Realms is the hop's RTA_FLOW; Encap its lightweight tunnel.
	Realms uint32      `json:"realms,omitempty"`
	Encap  *RouteEncap `json:"encap,omitempty"`
}

// RouteEncap is a route's or next hop's lightweight tunnel, as
// keepalived's parse_encap reads it: ip (LWTUNNEL_ENCAP_IP) and ip6 with
// id, dst, src, tos/tc, ttl/hoplimit and flags; mpls with its label
// stack; ila with its locator.
type RouteEncap struct {
	Type  string     `json:"type"`
	ID    *uint64    `json:"id,omitempty"`
	Dst   netip.Addr `json:"dst,omitzero"`
	Src   netip.Addr `json:"src,omitzero"`
	Tos   *uint8     `json:"tos,omitempty"`
	TTL   *uint8     `json:"ttl,omitempty"`
	Flags *uint16    `json:"flags,omitempty"`
	// Labels are the MPLS labels, outermost first.
	Labels []uint32 `json:"labels,omitempty"`
	// Locator is the ILA locator, its four groups high to low.
	Locator *uint64 `json:"locator,omitempty"`
}

// Rule is a virtual_rules (or static_rules) line: a policy routing rule,
// in keepalived's reading of "ip rule" syntax.
type Rule struct {
	Family Family `json:"family"`
	// From and To are the source and destination prefixes; invalid (zero)
	// means all.
	From   netip.Prefix `json:"from,omitzero"`
	To     netip.Prefix `json:"to,omitzero"`
	Invert bool         `json:"not,omitempty"`
	// Priority is the rule's preference; keepalived gives a rule without
	// one 16384, 16383, ... (per family, in the order read).
	Priority uint32 `json:"priority"`
	// Action is table, goto, nop, blackhole, unreachable or prohibit.
	Action string `json:"action"`
	// Table is the table looked up (Action table, not with L3mdev).
	Table  uint32 `json:"table,omitempty"`
	Goto   uint32 `json:"goto,omitempty"`
	L3mdev bool   `json:"l3mdev,omitempty"`
	Tos    uint8  `json:"tos,omitempty"`
	// Fwmark and Fwmask are the firewall mark and its mask (HasFwmark,
	// HasFwmask say whether they were given).
	Fwmark    uint32 `json:"fwmark,omitempty"`
	Fwmask    uint32 `json:"fwmask,omitempty"`
	HasFwmark bool   `json:"has_fwmark,omitempty"`
	HasFwmask bool   `json:"has_fwmask,omitempty"`
	Realms    uint32 `json:"realms,omitempty"`
	// SuppressPrefixLen is -1 when not given.
	SuppressPrefixLen int32   `json:"suppress_prefixlength"`
	SuppressIfgroup   *uint32 `json:"suppress_ifgroup,omitempty"`
	Iif               string  `json:"iif,omitempty"`
	Oif               string  `json:"oif,omitempty"`
	TunID             uint64  `json:"tunnel_id,omitempty"`
	// UIDRange, Sport and Dport are [start, end] ranges when given.
	UIDRange *[2]uint32 `json:"uidrange,omitempty"`
	Sport    *[2]uint16 `json:"sport,omitempty"`
	Dport    *[2]uint16 `json:"dport,omitempty"`
	IPProto  *uint8     `json:"ipproto,omitempty"`
	// Protocol is the rule's protocol: keepalived's own (18) unless the
	// line says no_track (then the one given, if any).
	Protocol *uint8 `json:"protocol,omitempty"`
	NoTrack  bool   `json:"no_track,omitempty"`
	Pos      Pos    `json:"pos"`
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
	// Deleted (notify_deleted SCRIPT) and MasterRxLowerPri
	// (notify_master_rx_lower_pri) are instances' only.
	Deleted          *Command `json:"deleted,omitempty"`
	MasterRxLowerPri *Command `json:"master_rx_lower_pri,omitempty"`
}

// Timing is keepalived's knobs on the protocol's timers and answers.
type Timing struct {
	// DownTimerAdverts is how many advert intervals Master_Down_Interval
	// counts before its skew (down_timer_adverts, 1..100); 0 (global
	// only) means RFC 5798's 3.
	DownTimerAdverts int `json:"down_timer_adverts"`
	// LowerPrioNoAdvert: a master does not answer a lower priority.
	LowerPrioNoAdvert bool `json:"lower_prio_no_advert"`
	// HigherPrioSendAdvert: a master sends an advert before yielding to
	// a higher priority.
	HigherPrioSendAdvert bool `json:"higher_prio_send_advert"`
}

// GlobalNotify is global_defs' notify FIFOs: notify_fifo and
// vrrp_notify_fifo get the same lines (hactl has only the VRRP process),
// and the switches of what they get.
type GlobalNotify struct {
	FIFO     *FIFO `json:"notify_fifo,omitempty"`
	VRRPFIFO *FIFO `json:"vrrp_notify_fifo,omitempty"`
	// PriorityChanges is vrrp_notify_priority_changes, the default of
	// every instance's notify_priority_changes.
	PriorityChanges bool `json:"vrrp_notify_priority_changes"`
	// WriteStatesOnReload is fifo_write_vrrp_states_on_reload.
	WriteStatesOnReload bool `json:"fifo_write_vrrp_states_on_reload"`
}

// FIFO is one notify FIFO: its path, who owns it when created, and the
// script started with the path as its last argument to read it.
type FIFO struct {
	Path   string   `json:"path"`
	User   string   `json:"user,omitempty"`
	Group  string   `json:"group,omitempty"`
	Script *Command `json:"script,omitempty"`
	Pos    Pos      `json:"pos"`
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
	// TrackProcesses keep their weights whatever TrackingWeight says, as
	// in keepalived (0 only when a member is an address owner).
	TrackProcesses []TrackRef `json:"track_process"`
	// TrackingWeight (sync_group_tracking_weight) lets members keep the
	// weights of their trackers; otherwise keepalived sets them to 0.
	TrackingWeight bool `json:"sync_group_tracking_weight"`
	// NotifyPriorityChanges is the members' default; nil when not given.
	NotifyPriorityChanges *bool `json:"notify_priority_changes,omitempty"`
	// Guard is the etcd_guard of every member (hactl's own).
	Guard    string `json:"guard,omitempty"`
	GuardPos Pos    `json:"-"`
}
