package config

import "net/netip"

// checkVRIDs reports instances that would fight over one virtual router:
// the same VRID and family on the same interface and multicast group, or,
// for unicast, the same source address with a peer in common. Each
// instance is reported once, against the first that uses its VRID (a
// file with thousands of copies of one instance gives as many lines, not
// their square).
func (b *builder) checkVRIDs() {
	type mkey struct {
		vrid   int
		family Family
		iface  string
		group  netip.Addr
	}
	mcast := map[mkey]*instDraft{}
	var unicast []*instDraft
	for _, d := range b.insts {
		a := d.in
		if a.VRID == 0 {
			continue
		}
		if !a.Unicast {
			k := mkey{a.VRID, a.Family, a.Interface, a.McastGroup}
			if o, ok := mcast[k]; ok {
				b.diag.errorf(d.vrid, "(%s) VRID %d is already used for %s on interface %s by %s at %s: keepalived refuses to start, and so does hactl",
					a.Name, a.VRID, familyName(a.Family), a.Interface, o.in.Name, o.pos)
				continue
			}
			mcast[k] = d
			continue
		}
		for _, o := range unicast {
			c := o.in
			if c.VRID != a.VRID || c.Family != a.Family || a.SrcIP != c.SrcIP {
				continue
			}
			if a.Interface != "" && c.Interface != "" && a.Interface != c.Interface {
				continue
			}
			if sharePeer(a, c) {
				b.diag.errorf(d.vrid, "(%s) VRID %d with the same source and a common unicast peer is already used by %s at %s: keepalived refuses to start, and so does hactl",
					a.Name, a.VRID, c.Name, o.pos)
				break
			}
		}
		unicast = append(unicast, d)
	}
}

func sharePeer(a, c *Instance) bool {
	for _, p := range a.UnicastPeers {
		for _, q := range c.UnicastPeers {
			if p.Addr == q.Addr {
				return true
			}
		}
	}
	return false
}

// resolveGroups checks sync group members and resolves their trackers.
func (b *builder) resolveGroups() {
	byName := map[string]*Instance{}
	for _, in := range b.cfg.Instances {
		byName[in.Name] = in
	}
	for _, gd := range b.groups {
		g := gd.g
		for _, m := range gd.members {
			in, ok := byName[m.Text]
			switch {
			case !ok:
				b.diag.correctf(m.Pos, "vrrp_sync_group %s: no vrrp_instance %s is defined: keepalived reports it and ignores it, and so does hactl", g.Name, m.Text)
				continue
			case in.SyncGroup == g.Name:
				b.diag.warnf(m.Pos, "vrrp_sync_group %s: %s is listed twice", g.Name, m.Text)
				continue
			case in.SyncGroup != "":
				b.diag.correctf(m.Pos, "vrrp_sync_group %s: %s is already in sync group %s: keepalived reports it and leaves it there, and so does hactl", g.Name, m.Text, in.SyncGroup)
				continue
			}
			in.SyncGroup = g.Name
			g.Instances = append(g.Instances, m.Text)
		}
		if len(gd.members) > 0 && len(g.Instances) == 1 {
			b.diag.warnf(g.Pos, "vrrp_sync_group %s has only one instance: keepalived notes it (this probably isn't what you want) and runs it, and so does hactl", g.Name)
		}
		g.TrackScripts = b.resolveRefs(g.Name, "track_script", gd.scriptRefs, b.scriptLookup)
		g.TrackFiles = b.resolveRefs(g.Name, "track_file", gd.fileRefs, b.fileLookup)
		g.TrackProcesses = b.groupProcessWeights(g, b.resolveRefs(g.Name, "track_process", gd.procRefs, b.procLookup), byName)
		b.cfg.SyncGroups = append(b.cfg.SyncGroups, g)
	}
	for _, d := range b.insts {
		b.trackerWeights(d.in)
	}
}

// trackerWeights applies keepalived's rule: members of a sync group
// (without sync_group_tracking_weight) track with weight 0, and an address
// owner (priority 255) drops weighted trackers, since its priority cannot
// change.
func (b *builder) trackerWeights(in *Instance) {
	inGroup := false
	for _, g := range b.cfg.SyncGroups {
		if g.Name == in.SyncGroup && !g.TrackingWeight {
			inGroup = true
		}
	}
	if !inGroup && in.Priority != ownerPriority {
		return
	}
	why := "the instance is in sync group " + in.SyncGroup + " (see sync_group_tracking_weight)"
	verb := "set to 0"
	if !inGroup {
		why, verb = "the instance is the address owner (priority 255)", "tracker dropped"
	}
	var ifs []TrackInterface
	for _, t := range in.TrackInterfaces {
		if t.Weight != 0 {
			b.diag.warnf(t.Pos, "(%s) weight of track_interface %s ignored because %s; %s", in.Name, t.Name, why, verb)
			if !inGroup {
				continue
			}
			t.Weight = 0
		}
		ifs = append(ifs, t)
	}
	in.TrackInterfaces = ifs
	in.TrackScripts = b.zeroRefs(in, "track_script", in.TrackScripts, inGroup, why, verb)
	in.TrackFiles = b.zeroRefs(in, "track_file", in.TrackFiles, inGroup, why, verb)
}

func (b *builder) zeroRefs(in *Instance, kw string, refs []TrackRef, keep bool, why, verb string) []TrackRef {
	var out []TrackRef
	for _, r := range refs {
		if r.Weight != 0 {
			b.diag.warnf(r.Pos, "(%s) weight of %s %s ignored because %s; %s", in.Name, kw, r.Name, why, verb)
			if !keep {
				continue
			}
			r.Weight = 0
		}
		out = append(out, r)
	}
	return out
}
