package daemon

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

// Bounds of conflict tracking. A segment without VRRP authentication lets
// anyone send adverts of our VRID from a new source address per packet;
// none of what tracking keeps may grow with the number of sources.
const (
	// conflictCap is how many sources an instance tracks; the least
	// recently heard makes room for a new one. A real VRID clash involves
	// a handful of routers.
	conflictCap = 64
	// conflictLogEvery bounds how often one source's unchanged conflict is
	// logged again: a conflicting router sends every interval, and the log
	// must not repeat it per packet (keepalived logs every one).
	conflictLogEvery = 5 * time.Minute
	// conflictLogBurst and conflictLogPerMinute are the instance's budget
	// of conflict lines: a burst, then a few a minute. Lines over budget
	// are counted and summed up once per conflictSummaryEvery.
	conflictLogBurst     = 5
	conflictLogPerMinute = 5
	conflictSummaryEvery = 30 * time.Second
	// conflictLogVIPs is how many of their VIPs a log line lists (an
	// advert carries up to 255).
	conflictLogVIPs = 8
)

// conflict is what is known of one source that advertises the instance's
// VRID differently.
type conflict struct {
	mismatch watch.Mismatch
	packets  uint64
	first    time.Time
	last     time.Time
	logged   time.Time
}

// conflictTable is an instance's record of conflicting sources: at most
// conflictCap of them, the packets counted by difference, and how many
// sources were evicted to stay within the cap.
type conflictTable struct {
	bySrc   map[netip.Addr]*conflict
	counts  map[string]uint64
	evicted uint64
	budget  logBudget
	// suppressed counts lines over budget since the last summary;
	// summaryArmed: a summary is scheduled.
	suppressed   uint64
	summaryArmed bool
}

func newConflictTable() *conflictTable {
	return &conflictTable{bySrc: map[netip.Addr]*conflict{}, counts: map[string]uint64{}}
}

// record counts one conflicting advert from src and reports whether it
// deserves a log line: a new source, a new kind of difference, or
// conflictLogEvery since the source was last logged. The line's budget is
// the caller's business (logBudget).
func (t *conflictTable) record(src netip.Addr, m watch.Mismatch, now time.Time) (*conflict, bool) {
	for _, reason := range mismatchReasons(m) {
		t.counts[reason]++
	}
	c := t.bySrc[src]
	if c == nil {
		if len(t.bySrc) >= conflictCap {
			t.evictOldest()
		}
		c = &conflict{first: now}
		t.bySrc[src] = c
	}
	c.packets++
	c.last = now
	if c.packets > 1 && c.mismatch == m && now.Sub(c.logged) < conflictLogEvery {
		return c, false
	}
	c.mismatch, c.logged = m, now
	return c, true
}

// evictOldest drops the least recently heard source. A scan of at most
// conflictCap entries, only when a new source arrives at a full table.
func (t *conflictTable) evictOldest() {
	var oldest netip.Addr
	var at time.Time
	for src, c := range t.bySrc {
		if !oldest.IsValid() || c.last.Before(at) {
			oldest, at = src, c.last
		}
	}
	delete(t.bySrc, oldest)
	t.evicted++
}

// snapshot copies the table for the API, unsorted: it runs on the loop,
// sortConflicts runs in the caller's goroutine.
func (t *conflictTable) snapshot() ([]api.Conflict, map[string]uint64) {
	out := make([]api.Conflict, 0, len(t.bySrc))
	for src, c := range t.bySrc {
		out = append(out, api.Conflict{Source: src.String(), Differences: mismatchReasons(c.mismatch), Packets: c.packets, FirstSeen: c.first, LastSeen: c.last})
	}
	counts := make(map[string]uint64, len(t.counts))
	for k, v := range t.counts {
		counts[k] = v
	}
	return out, counts
}

// logBudget is a token bucket of log lines: conflictLogBurst at once,
// refilled at conflictLogPerMinute.
type logBudget struct {
	tokens float64
	at     time.Time
}

func (b *logBudget) take(now time.Time) bool {
	if b.at.IsZero() {
		b.tokens = conflictLogBurst
	} else {
		b.tokens = min(conflictLogBurst, b.tokens+now.Sub(b.at).Minutes()*conflictLogPerMinute)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// conflictEligible tells whether an advert that failed the instance's
// checks with err may still be tracked as a conflict: only when it passed
// authentication, that is when it failed on the interval (checked after
// the password), or on the version of an instance without authentication.
// Anything that failed TTL, authentication type or password is a drop and
// nothing else (keepalived too checks the password before the VIPs), so
// that wrong-password floods cannot fill the table.
func conflictEligible(in *instance, err error) bool {
	r, ok := vrrp.ReasonOf(err)
	if !ok {
		return false
	}
	return r == vrrp.ErrInterval || r == vrrp.ErrVersion && in.expect.AuthType == vrrp.AuthNone
}

// checkConflict compares an advert of our VRID with our own (VIP set,
// version, interval, v2 authentication, as hactl watch does), and records
// and logs a difference, once per source and kind of difference, then at
// most every conflictLogEvery, within the instance's log budget. The
// caller has authenticated the advert (conflictEligible) and put its
// addresses in r.scratch.addrs. dropped says whether the caller drops the
// advert for its addresses, as keepalived 2.2.7 does (receive.go,
// advertAddrsDrop); otherwise it is handled as usual.
func (r *runtime) checkConflict(in *instance, src netip.Addr, a *vrrp.Advertisement, dropped bool) {
	theirs := watch.Advert{Version: a.Version, Interval: a.Interval, VIPs: r.scratch.addrs}
	if a.Version == vrrp.Version2 {
		theirs.AuthType, theirs.AuthData = a.AuthType, a.AuthData
	}
	m := watch.Compare(in.ours, theirs)
	if m == 0 {
		return
	}
	now := r.clock.Now()
	t := in.conflicts
	c, want := t.record(src, m, now)
	if !want {
		return
	}
	if !t.budget.take(now) {
		t.suppressed++
		if !t.summaryArmed {
			t.summaryArmed = true
			r.clock.AfterFunc(conflictSummaryEvery, func() { r.post(func(r *runtime) { r.conflictSummary(in) }) })
		}
		return
	}
	r.log.Warn("VRID conflict: another router advertises our VRID differently",
		"instance", in.c.Name, "vrid", in.c.VRID, "interface", in.c.Interface, "source", src,
		"differs_in", m.String(), "their_vips", addrList(r.scratch.addrs, conflictLogVIPs), "our_vips", addrList(in.advert, conflictLogVIPs),
		"their_version", int(a.Version), "their_interval", a.Interval, "packets_so_far", c.packets, "action", conflictAction(dropped))
}

// conflictAction says in the conflict line what became of the advert.
func conflictAction(dropped bool) string {
	if dropped {
		return "dropped (" + dropAddrList + ": its addresses are not ours, as keepalived drops it)"
	}
	return "handled"
}

// conflictSummary logs the conflict lines suppressed since the last
// summary, and schedules the next while they keep coming.
func (r *runtime) conflictSummary(in *instance) {
	t := in.conflicts
	t.summaryArmed = false
	if t.suppressed == 0 {
		return
	}
	r.log.Warn("VRID conflict: more conflicting sources than the log budget; lines suppressed",
		"instance", in.c.Name, "vrid", in.c.VRID, "interface", in.c.Interface, "suppressed", t.suppressed,
		"sources_tracked", len(t.bySrc), "sources_evicted", t.evicted, "packets_by_difference", countList(t.counts))
	t.suppressed = 0
	t.summaryArmed = true
	r.clock.AfterFunc(conflictSummaryEvery, func() { r.post(func(r *runtime) { r.conflictSummary(in) }) })
}

// mismatchReasons names the differences by pkg/watch's keys.
func mismatchReasons(m watch.Mismatch) []string { return m.Keys() }

// addrList joins at most limit addresses, then says how many it left out.
func addrList(as []netip.Addr, limit int) string {
	var s []string
	for i, a := range as {
		if i == limit {
			s = append(s, "(+"+strconv.Itoa(len(as)-limit)+" more)")
			break
		}
		s = append(s, a.String())
	}
	return strings.Join(s, ",")
}

func countList(m map[string]uint64) string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s = append(s, k+"="+strconv.FormatUint(m[k], 10))
	}
	return strings.Join(s, ",")
}

// sortConflicts orders an instance's conflicts by source, off the loop.
func sortConflicts(in *api.Instance) {
	slices.SortFunc(in.Conflicts, func(a, b api.Conflict) int { return strings.Compare(a.Source, b.Source) })
}

// sortStatus orders a status snapshot (instances by name, conflicts by
// source) in the caller's goroutine, so that the loop only copies.
func sortStatus(st *api.Status) {
	slices.SortFunc(st.Instances, func(a, b api.Instance) int { return strings.Compare(a.Name, b.Name) })
	for i := range st.Instances {
		sortConflicts(&st.Instances[i])
	}
	slices.SortFunc(st.Sockets, func(a, b api.Socket) int {
		if c := strings.Compare(a.Interface, b.Interface); c != 0 {
			return c
		}
		return strings.Compare(a.Family, b.Family)
	})
}
