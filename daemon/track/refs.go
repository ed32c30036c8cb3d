package track

import "github.com/hactl/hactl/pkg/config"

// InstanceRefs lists the trackers of an instance, in keepalived's terms:
//
//   - its own interface, unweighted (down is a fault), unless
//     dont_track_primary is set or it has none;
//   - its track_interface, track_script and track_file entries, with the
//     weights pkg/config resolved (overrides applied, weights already 0 in
//     sync groups without sync_group_tracking_weight, weighted trackers
//     dropped for an address owner);
//   - the track_* entries of its sync group, with their weights set to 0
//     unless the group has sync_group_tracking_weight.
//
// A tracker listed twice appears once; if either listing is unweighted, the
// unweighted one wins, since a fault cannot be outweighed.
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
	if cfg != nil && in.SyncGroup != "" {
		for _, g := range cfg.SyncGroups {
			if g.Name == in.SyncGroup {
				addAll(g.TrackInterfaces, g.TrackScripts, g.TrackFiles, g.TrackingWeight)
			}
		}
	}
	return refs
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
