//go:build linux

package daemon

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

// conflictLogEvery bounds how often one source's unchanged conflict is
// logged again: a conflicting router sends every interval, and the log
// must not repeat it per packet (keepalived logs every one).
const conflictLogEvery = 5 * time.Minute

// conflict is what is known of one source that advertises the instance's
// VRID differently.
type conflict struct {
	mismatch watch.Mismatch
	packets  uint64
	first    time.Time
	last     time.Time
	logged   time.Time
}

// checkConflict compares an advert of our VRID with our own (VIP set,
// version, interval, v2 authentication, as hactl watch does), and records
// and logs a difference, once per source and kind of difference, then at
// most every conflictLogEvery. The advert is still handled as usual:
// keepalived, outside vrrp_strict, also acts on such adverts.
func (r *runtime) checkConflict(in *instance, src netip.Addr, a *vrrp.Advertisement) {
	m := watch.Compare(in.ours, watch.AdvertOf(a))
	if m == 0 {
		return
	}
	now := time.Now()
	c := in.conflicts[src]
	if c == nil {
		c = &conflict{first: now}
		in.conflicts[src] = c
	}
	c.packets++
	c.last = now
	for _, reason := range mismatchReasons(m) {
		in.conflictCounts[reason]++
	}
	if c.mismatch != m || now.Sub(c.logged) >= conflictLogEvery {
		c.mismatch, c.logged = m, now
		theirs := a.AppendAddrs(nil)
		r.log.Warn("VRID conflict: another router advertises our VRID differently",
			"instance", in.c.Name, "vrid", in.c.VRID, "interface", in.c.Interface, "source", src,
			"differs_in", m.String(), "their_vips", addrList(theirs), "our_vips", addrList(in.advert),
			"their_version", int(a.Version), "their_interval", a.Interval, "packets_so_far", c.packets)
	}
}

func mismatchReasons(m watch.Mismatch) []string {
	var out []string
	for _, k := range []struct {
		bit  watch.Mismatch
		name string
	}{{watch.MismatchVIPs, "vips"}, {watch.MismatchVersion, "version"}, {watch.MismatchInterval, "interval"}, {watch.MismatchAuth, "auth"}} {
		if m&k.bit != 0 {
			out = append(out, k.name)
		}
	}
	return out
}

func addrList(as []netip.Addr) string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return strings.Join(s, ",")
}

// apiConflicts renders the instance's conflicts, sorted by source.
func (in *instance) apiConflicts() []api.Conflict {
	out := []api.Conflict{}
	for src, c := range in.conflicts {
		out = append(out, api.Conflict{Source: src.String(), Differences: mismatchReasons(c.mismatch), Packets: c.packets, FirstSeen: c.first, LastSeen: c.last})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}
