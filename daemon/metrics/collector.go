package metrics

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// States are the values of the state label, in keepalived's order.
var States = []api.State{api.StateInit, api.StateBackup, api.StateMaster, api.StateFault, api.StateStop}

// DropReasons are the drop reasons exported from zero: every validation
// rule of pkg/vrrp plus the daemon's own.
func DropReasons() []string {
	var out []string
	for _, r := range vrrp.Reasons() {
		out = append(out, r.Name())
	}
	return append(out, "unknown_peer", "ttl_range", "addr_list", "malformed")
}

// instLabels identify an instance on every per-instance series. The label
// is vrrp_instance, not instance: Prometheus gives every target an
// instance label of its own.
var instLabels = []string{"vrrp_instance", "interface", "vrid", "family"}

func desc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append(slices.Clone(instLabels), extra...), nil)
}

var (
	descUp = prometheus.NewDesc("hactl_up",
		"1 when the daemon answered this scrape's status request; 0 when it did not (then only process, Go and script metrics follow).", nil, nil)
	descBuild = prometheus.NewDesc("hactl_build_info",
		"Always 1; the daemon's version and host name as labels.", []string{"version", "hostname"}, nil)
	descReloadOK = prometheus.NewDesc("hactl_config_last_reload_successful",
		"1 when the last reload (SIGHUP, POST /v1/reload) succeeded or none was tried; 0 when the last one was refused and the previous config still runs.", nil, nil)
	descReloadTime = prometheus.NewDesc("hactl_config_last_reload_success_timestamp_seconds",
		"When the running config was loaded (start or last successful reload), Unix time.", nil, nil)
	descStaticRoutesRestored = prometheus.NewDesc("hactl_static_routes_restored_total",
		"Static routes (static_routes with dev, without no_track) deleted from the host by someone else, and added back at once.", nil, nil)
	descDrops = prometheus.NewDesc("hactl_vrrp_packets_dropped_total",
		"Received VRRP packets dropped, by the validation rule they failed, on every interface (including packets that could not be tied to an instance).", []string{"reason"}, nil)

	descState = desc("hactl_vrrp_state",
		"1 for the instance's current VRRP state, 0 for the others (INIT, BACKUP, MASTER, FAULT, STOP).", "state")
	descBasePrio = desc("hactl_vrrp_base_priority",
		"Configured priority of the instance (1-255).")
	descEffPrio = desc("hactl_vrrp_effective_priority",
		"Priority the instance advertises now: the base priority plus tracker weights (0 when it resigns).")
	descSent = desc("hactl_vrrp_adverts_sent_total",
		"VRRP advertisements sent (one per destination: group or unicast peer).")
	descRcvd = desc("hactl_vrrp_adverts_received_total",
		"VRRP advertisements received and accepted for this instance.")
	descTransitions = desc("hactl_vrrp_transitions_total",
		"State transitions of the instance, by the state entered.", "state")
	descReleased = desc("hactl_vrrp_released_master_total",
		"Transitions out of MASTER (to BACKUP, FAULT or STOP).")
	descSince = desc("hactl_vrrp_last_transition_timestamp_seconds",
		"When the instance entered its current state, Unix time.")
	descLease = desc("hactl_vrrp_vip_lease_refreshes_total",
		"Renewals of the instance's VIP kernel leases while master.")
	descRestored = desc("hactl_vrrp_vips_restored_total",
		"VIPs deleted from the host by someone else (ip addr del) while the instance was master, and added back at once.")
	descRoutesRestored = desc("hactl_vrrp_routes_restored_total",
		"Virtual routes deleted from the host by someone else (ip route del, or with their VIP) while the instance was master, and added back at once.")
	descRulesRestored = desc("hactl_vrrp_rules_restored_total",
		"Virtual rules deleted from the host by someone else (ip rule del) while the instance was master, and added back at once.")
	descVMACRecreated = desc("hactl_vrrp_vmac_recreated_total",
		"The instance's VMACs (use_vmac) deleted under the daemon and made again.")
	descLeaseSecs = desc("hactl_vrrp_vip_lease_seconds",
		"Lifetime given to the instance's VIPs; 0 means permanent addresses.")
	descHeld = desc("hactl_vrrp_vip_held",
		"1 when this node has the configured VIP on its interface now (the instance is MASTER), else 0.", "address")
	descInstDrops = desc("hactl_vrrp_instance_packets_dropped_total",
		"Received packets dropped for this instance, by the validation rule they failed.", "reason")
	descPromoted = desc("hactl_vrrp_promoted",
		"1 while a sticky promotion (hactl failover --to) holds mastership on this node.")
	descTracker = desc("hactl_vrrp_tracker_ok",
		"1 when the tracker (script, interface or file) is OK for the instance, 0 when it fails.", "tracker", "kind")
	descTrackerWeight = desc("hactl_vrrp_tracker_weight",
		"Priority the tracker adds to the instance now (negative when it subtracts).", "tracker", "kind")
	descConflicts = desc("hactl_vrrp_conflict_packets_total",
		"Adverts of this VRID from other routers with a different VIP set, version, interval or authentication (a VRID conflict), by difference.", "difference")
	descConflictSources = desc("hactl_vrrp_conflict_sources",
		"Sources in the instance's conflict table now (at most 64, the most recently heard).")
	descConflictEvicted = desc("hactl_vrrp_conflict_sources_evicted_total",
		"Conflicting sources dropped from the instance's full conflict table to make room for a new one: the scale of a flood from random sources.")

	descGuardKeyHeld = desc("hactl_guard_key_held",
		"1 when this node holds the instance's etcd guard key now (docs/guard.md); the VIPs are held only with it.", "guard")
	descGuardNoKey = desc("hactl_guard_master_without_key",
		"1 while the instance is VRRP master without its guard key: it holds no VIP and keeps asking etcd (MASTER (no key)).", "guard")
	descGuardAcquired = desc("hactl_guard_key_acquisitions_total",
		"Times this node took the instance's guard key.", "guard")
	descGuardKeyLost = desc("hactl_guard_key_losses_total",
		"Times the instance lost its guard key while master (deadline passed, lease lost, key taken): each gave up mastership with priority 0.", "guard")

	guardLabels      = []string{"guard"}
	descGuardLeaseOK = prometheus.NewDesc("hactl_guard_lease_ok",
		"1 when the etcd guard has a lease renewed within its deadline (it reaches etcd); 0: its instances are in FAULT and hold no VIP.", guardLabels, nil)
	descGuardRenewals = prometheus.NewDesc("hactl_guard_lease_renewals_total",
		"Keep-alive rounds of the guard's etcd lease, by result: ok, or failed (etcd unreachable or too slow).", []string{"guard", "result"}, nil)
	descGuardGrants = prometheus.NewDesc("hactl_guard_lease_grants_total",
		"Leases granted to the guard by etcd (the first, and one after every loss).", guardLabels, nil)
	descGuardLosses = prometheus.NewDesc("hactl_guard_lease_losses_total",
		"Leases of the guard lost (expired or refused in etcd, or not renewed for a whole ttl).", guardLabels, nil)

	sockLabels        = []string{"interface", "family"}
	descSockOtherVRID = prometheus.NewDesc("hactl_vrrp_socket_other_vrid_packets_total",
		"Adverts received on the interface for VRIDs no instance there runs (other clusters on the segment; normal).", sockLabels, nil)
	descSockKernelDrops = prometheus.NewDesc("hactl_vrrp_socket_kernel_drops_total",
		"Packets the kernel dropped for a full receive buffer of the daemon's VRRP socket (SO_RXQ_OVFL): the daemon fell behind.", sockLabels, nil)
)

var snapshotDescs = []*prometheus.Desc{descUp, descBuild, descReloadOK, descReloadTime, descDrops,
	descState, descBasePrio, descEffPrio, descSent, descRcvd, descTransitions, descReleased, descSince,
	descLease, descRestored, descRoutesRestored, descRulesRestored, descVMACRecreated, descStaticRoutesRestored, descLeaseSecs, descHeld, descInstDrops, descPromoted, descTracker, descTrackerWeight, descConflicts,
	descConflictSources, descConflictEvicted, descSockOtherVRID, descSockKernelDrops,
	descGuardKeyHeld, descGuardNoKey, descGuardAcquired, descGuardKeyLost, descGuardLeaseOK, descGuardRenewals, descGuardGrants, descGuardLosses}

// snapshotCollector exports a status snapshot joined with the pushed
// counters.
type snapshotCollector struct{ m *Metrics }

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range snapshotDescs {
		ch <- d
	}
	if c.m.opts.KeepalivedCompat {
		describeKeepalived(ch)
	}
}

// pushedCopy is a copy of the pushed counters, taken under the lock.
type pushedCopy map[string]pushed

func (m *Metrics) pushedCopy() pushedCopy {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := pushedCopy{}
	for name, p := range m.insts {
		out[name] = pushed{transitions: maps.Clone(p.transitions), released: p.released,
			leaseRefreshes: p.leaseRefreshes, drops: maps.Clone(p.drops)}
	}
	return out
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.opts.Status == nil {
		return
	}
	st, err := c.m.opts.Status()
	if err != nil {
		c.m.log.Warn("metrics: no status from the daemon", "err", err)
		ch <- gauge(descUp, 0)
		if c.m.opts.KeepalivedCompat {
			ch <- gauge(descKAUp, 0)
		}
		return
	}
	p := c.m.pushedCopy()
	ch <- gauge(descUp, 1)
	ch <- gauge(descBuild, 1, st.Daemon.Version, st.Daemon.Hostname)
	ch <- gauge(descReloadOK, boolf(st.Daemon.LastReloadError == ""))
	loaded := st.Daemon.ReloadedAt
	if loaded.IsZero() {
		loaded = st.Daemon.StartedAt
	}
	if !loaded.IsZero() {
		ch <- gauge(descReloadTime, unixSeconds(loaded))
	}
	ch <- counter(descStaticRoutesRestored, float64(st.Daemon.StaticRoutesRestored))
	for _, reason := range reasons(st.Drops) {
		ch <- counter(descDrops, float64(st.Drops[reason]), reason)
	}
	for _, s := range st.Sockets {
		ch <- counter(descSockOtherVRID, float64(s.OtherVRID), s.Interface, s.Family)
		ch <- counter(descSockKernelDrops, float64(s.KernelDrops), s.Interface, s.Family)
	}
	for _, in := range st.Instances {
		collectInstance(ch, in, p[in.Name])
	}
	for _, g := range st.Guards {
		ch <- gauge(descGuardLeaseOK, boolf(g.LeaseOK), g.Name)
		ch <- counter(descGuardRenewals, float64(g.Renewals), g.Name, "ok")
		ch <- counter(descGuardRenewals, float64(g.RenewalFailures), g.Name, "failed")
		ch <- counter(descGuardGrants, float64(g.Grants), g.Name)
		ch <- counter(descGuardLosses, float64(g.Losses), g.Name)
	}
	if c.m.opts.KeepalivedCompat {
		collectKeepalived(ch, st, p)
	}
}

// reasons are the known drop reasons plus any other the daemon reports,
// sorted after the known ones.
func reasons(drops map[string]uint64) []string {
	known := DropReasons()
	var extra []string
	for r := range drops {
		if !slices.Contains(known, r) {
			extra = append(extra, r)
		}
	}
	slices.Sort(extra)
	return append(known, extra...)
}

func collectInstance(ch chan<- prometheus.Metric, in api.Instance, p pushed) {
	id := []string{in.Name, in.Interface, strconv.Itoa(in.VRID), in.Family}
	with := func(extra ...string) []string { return append(slices.Clone(id), extra...) }
	for _, s := range States {
		ch <- gauge(descState, boolf(in.State == s), with(string(s))...)
		ch <- counter(descTransitions, float64(p.transitions[s]), with(string(s))...)
	}
	ch <- gauge(descBasePrio, float64(in.BasePriority), id...)
	ch <- gauge(descEffPrio, float64(in.EffectivePriority), id...)
	ch <- counter(descSent, float64(in.Counters.AdvertsSent), id...)
	ch <- counter(descRcvd, float64(in.Counters.AdvertsReceived), id...)
	ch <- counter(descReleased, float64(p.released), id...)
	if !in.Since.IsZero() {
		ch <- gauge(descSince, unixSeconds(in.Since), id...)
	}
	ch <- counter(descLease, float64(p.leaseRefreshes), id...)
	ch <- counter(descRestored, float64(in.Counters.VIPsRestored), id...)
	ch <- counter(descRoutesRestored, float64(in.Counters.RoutesRestored), id...)
	ch <- counter(descRulesRestored, float64(in.Counters.RulesRestored), id...)
	ch <- counter(descVMACRecreated, float64(in.Counters.VMACsRecreated), id...)
	ch <- gauge(descLeaseSecs, float64(in.LeaseSeconds), id...)
	for _, a := range vipAddrs(in.VIPs) {
		ch <- gauge(descHeld, boolf(in.Holding), with(a)...)
	}
	for _, reason := range reasons(p.drops) {
		ch <- counter(descInstDrops, float64(p.drops[reason]), with(reason)...)
	}
	ch <- gauge(descPromoted, boolf(in.Promotion != nil), id...)
	for _, d := range []string{"vips", "version", "interval", "auth"} {
		ch <- counter(descConflicts, float64(in.ConflictCounts[d]), with(d)...)
	}
	ch <- gauge(descConflictSources, float64(len(in.Conflicts)), id...)
	ch <- counter(descConflictEvicted, float64(in.ConflictSourcesEvicted), id...)
	if g := in.Guard; g != nil {
		ch <- gauge(descGuardKeyHeld, boolf(g.Held), with(g.Guard)...)
		ch <- gauge(descGuardNoKey, boolf(g.NoKey), with(g.Guard)...)
		ch <- counter(descGuardAcquired, float64(g.Acquisitions), with(g.Guard)...)
		ch <- counter(descGuardKeyLost, float64(g.Losses), with(g.Guard)...)
	}
	seen := map[[2]string]bool{}
	for _, t := range in.Trackers {
		k := [2]string{t.Name, t.Kind}
		if seen[k] { // one series per tracker, even if listed twice
			continue
		}
		seen[k] = true
		ch <- gauge(descTracker, boolf(t.OK), with(t.Name, t.Kind)...)
		ch <- gauge(descTrackerWeight, float64(t.Weight), with(t.Name, t.Kind)...)
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

// vipAddrs are the VIPs' addresses without prefix length, each once, in
// the configured order.
func vipAddrs(vips []string) []string {
	var out []string
	for _, v := range vips {
		a := v
		if p, err := netip.ParsePrefix(v); err == nil {
			a = p.Addr().String()
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
