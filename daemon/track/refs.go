package track

import (
	"log/slog"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

// InstanceRefs lists the trackers of an instance, in keepalived's terms:
//
//   - its own interface, unweighted (down is a fault), unless
//     dont_track_primary is set or it has none;
//   - its track_interface, track_script and track_file entries, with the
//     weights pkg/config resolved (overrides applied, weights already 0 in
//     sync groups without sync_group_tracking_weight, weighted trackers
//     dropped for an address owner);
//   - its track_process entries, with their weights;
//   - the interfaces of its addresses and routes, unweighted
//     (AddressInterfaces);
//   - the track_* entries of its sync group, with their weights set to 0
//     unless the group has sync_group_tracking_weight, but for
//     track_process, whose weights keepalived keeps (0 only when a member
//     is an address owner, which pkg/config applied).
//
// A tracker listed twice appears once; if either listing is unweighted, the
// unweighted one wins, since a fault cannot be outweighed. A process
// tracked by both the instance and its group takes the group's weight
// unless the instance's is unweighted, as keepalived's
// add_vrrp_to_track_process does.
func InstanceRefs(cfg *config.Config, in *config.Instance) []Ref {
	var refs []Ref
	index := map[Key]int{}
	add := func(r Ref) {
		if i, ok := index[r.Key]; ok {
			if r.Weight == 0 {
				refs[i] = r
			}
			return
		}
		index[r.Key] = len(refs)
		refs = append(refs, r)
	}
	if in.Interface != "" && !in.DontTrackPrimary {
		add(Ref{Key: Key{KindInterface, in.Interface}})
	}
	addAll := func(ifs []config.TrackInterface, scripts, files []config.TrackRef, keepWeights bool) {
		w := func(n int) int {
			if keepWeights {
				return n
			}
			return 0
		}
		for _, t := range ifs {
			add(Ref{Key: Key{KindInterface, t.Name}, Weight: w(t.Weight), Reverse: t.Reverse})
		}
		for _, t := range scripts {
			add(Ref{Key: Key{KindScript, t.Name}, Weight: w(t.Weight), Reverse: t.Reverse})
		}
		for _, t := range files {
			add(Ref{Key: Key{KindFile, t.Name}, Weight: w(t.Weight), Reverse: t.Reverse})
		}
	}
	addAll(in.TrackInterfaces, in.TrackScripts, in.TrackFiles, true)
	for _, t := range in.TrackProcesses {
		add(Ref{Key: Key{KindProcess, t.Name}, Weight: t.Weight, Reverse: t.Reverse})
	}
	for _, name := range AddressInterfaces(in) {
		add(Ref{Key: Key{KindInterface, name}})
	}
	if cfg != nil && in.SyncGroup != "" {
		for _, g := range cfg.SyncGroups {
			if g.Name != in.SyncGroup {
				continue
			}
			addAll(g.TrackInterfaces, g.TrackScripts, g.TrackFiles, g.TrackingWeight)
			for _, t := range g.TrackProcesses {
				k := Key{KindProcess, t.Name}
				if i, ok := index[k]; ok {
					if refs[i].Weight != 0 {
						refs[i].Weight = t.Weight
					}
					continue
				}
				add(Ref{Key: k, Weight: t.Weight, Reverse: t.Reverse})
			}
		}
	}
	return refs
}

// AddressInterfaces lists the interfaces an instance tracks for its
// addresses and routes, as keepalived's vrrp_complete_instance decides
// (vrrp.c): the interface of every virtual_ipaddress and
// virtual_ipaddress_excluded entry (its dev, else the instance's
// interface) unless the entry says no_track, except that with
// dont_track_primary an address on the instance's own interface does not
// make it tracked; and the dev of every virtual route that does not say
// no_track (a route without dev is not tracked: keepalived warns and
// drops its tracking), whatever dont_track_primary says. Each interface
// appears once, in configuration order.
func AddressInterfaces(in *config.Instance) []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, list := range [][]config.VIP{in.VIPs, in.ExcludedVIPs} {
		for _, v := range list {
			dev := v.Dev
			if dev == "" {
				dev = in.Interface
			}
			if v.NoTrack || (in.DontTrackPrimary && dev == in.Interface) {
				continue
			}
			add(dev)
		}
	}
	for _, r := range in.Routes {
		if !r.NoTrack {
			add(r.Dev)
		}
	}
	return out
}

// downTimerAdverts is keepalived's default vrrp_down_timer_adverts
// (RFC 5798's three adverts), for an instance whose config left it 0.
const downTimerAdverts = 3

// IfDelays returns the interfaces' debounce delays from
// interface_up_down_delays, each capped below (down_timer_adverts - 1)
// advert intervals of every instance on that interface, as keepalived's
// check_debounce_timers does: a delay that long would let the backups
// take over before the change is seen.
func IfDelays(cfg *config.Config, log *slog.Logger) map[string]config.IfDelay {
	out := map[string]config.IfDelay{}
	for _, d := range cfg.IfDelays {
		for _, in := range cfg.Instances {
			if in.Interface != d.Interface || in.AdvertInt <= 0 {
				continue
			}
			n := in.Timing.DownTimerAdverts
			if n <= 0 {
				n = downTimerAdverts
			}
			limit := time.Duration(n-1) * in.AdvertInt
			capTo := limit - in.AdvertInt/256
			if d.Up >= limit || d.Down >= limit {
				if log != nil {
					log.Info("interface debounce timer(s) not less than (down_timer_adverts - 1) * advert_int; reduced", "instance", in.Name, "interface", d.Interface, "max", capTo)
				}
				if d.Up >= limit {
					d.Up = capTo
				}
				if d.Down >= limit {
					d.Down = capTo
				}
			}
		}
		if d.Up > 0 || d.Down > 0 {
			out[d.Interface] = d
		}
	}
	return out
}

// Used lists every tracker some instance of cfg uses, each once, in
// configuration order.
func Used(cfg *config.Config) []Key {
	var keys []Key
	seen := map[Key]bool{}
	for _, in := range cfg.Instances {
		for _, r := range InstanceRefs(cfg, in) {
			if !seen[r.Key] {
				seen[r.Key] = true
				keys = append(keys, r.Key)
			}
		}
	}
	return keys
}
