package watch

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Group identifies one virtual router as seen on the wire: VRIDs are only
// unique per segment and address family.
type Group struct {
	Interface string
	Family    vrrp.Family
	VRID      int
}

// Key identifies one row: a source advertising for a group.
type Key struct {
	Group
	Src netip.Addr
}

// compareKeys orders rows by interface, family, VRID, then source.
func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Interface, b.Interface), cmp.Compare(a.Family, b.Family),
		cmp.Compare(a.VRID, b.VRID), a.Src.Compare(b.Src))
}

// Row is what the Table knows about one source of one group. Flags,
// ConflictWith and DualMasterWith are sticky: they say what was seen during
// the watch, so a conflict that came and went still shows at the end.
type Row struct {
	Key
	Node   string
	SrcMAC net.HardwareAddr
	// The last advertisement's fields (of the last valid one, once there
	// has been one).
	Version  int
	Priority int
	Interval time.Duration
	AuthType int
	AuthData [8]byte
	// AH reports that the advert came inside an AH header (Packet.AH).
	AH        bool
	Addresses []netip.Addr
	// Packets counts every packet of the row, Invalid those that failed a
	// rule; LastError is the rule the last invalid one failed.
	Packets   int
	Invalid   int
	LastError string
	FirstSeen time.Time
	LastSeen  time.Time

	Flags          Flags
	ConflictWith   []netip.Addr
	DualMasterWith []netip.Addr

	valid     bool      // a valid advert has been seen
	lastValid time.Time // time of the last valid advert
	runStart  time.Time // start of the current run of priority > 0 adverts; zero: not advertising
}

// masterDown is the row's Master_Down_Interval by its last advert.
func (r *Row) masterDown() time.Duration {
	return vrrp.MasterDownInterval(vrrp.Version(r.Version), r.Priority, r.Interval)
}

// live reports whether the row's source counts as still advertising at
// now: its last valid advert is less than a Master_Down_Interval old (a
// backup would have taken over by then).
func (r *Row) live(now time.Time) bool {
	return r.valid && now.Sub(r.lastValid) <= r.masterDown()
}

// Finding is one pair of sources in conflict or both master, for summaries
// and logs.
type Finding struct {
	Group
	Flag Flags // FlagConflict or FlagDualMaster
	A, B netip.Addr
	// Mismatch says what differs (conflicts only).
	Mismatch Mismatch
	// First and Last are the first and latest packets that showed it.
	First, Last time.Time
}

type findingKey struct {
	Group
	flag Flags
	a, b netip.Addr
}

// Options configure a Table.
type Options struct {
	// Names maps source addresses to node names (the inventory's hosts).
	Names map[netip.Addr]string
	// MACNames maps link-layer addresses (net.HardwareAddr.String form) to
	// node names, from the neighbour table. The Table adds what it learns:
	// a source named by address names its MAC, which then names that
	// node's other sources (its IPv6 link-local address, say).
	MACNames map[string]string
}

// Table is the per-(interface, family, VRID, source) state of a watch. It is
// deterministic: the same packets in the same order give the same rows,
// flags and findings. Not safe for concurrent use.
type Table struct {
	names    map[netip.Addr]string
	macNames map[string]string
	rows     map[Key]*Row
	groups   map[Group][]*Row
	findings map[findingKey]*Finding
	used     map[vrrp.Family]*[256]bool
	packets  int
	invalid  int
}

// NewTable returns an empty table.
func NewTable(o Options) *Table {
	t := &Table{
		names: map[netip.Addr]string{}, macNames: map[string]string{},
		rows: map[Key]*Row{}, groups: map[Group][]*Row{}, findings: map[findingKey]*Finding{},
		used: map[vrrp.Family]*[256]bool{vrrp.IPv4: {}, vrrp.IPv6: {}},
	}
	for a, n := range o.Names {
		t.names[a.Unmap()] = n
	}
	for m, n := range o.MACNames {
		t.macNames[m] = n
	}
	return t
}

// Packets returns how many packets were observed, and how many were invalid.
func (t *Table) Packets() (total, invalid int) { return t.packets, t.invalid }

// Observe adds a packet to the table and sets the packet's Node, Flags,
// ConflictWith and DualMasterWith as they stand at the packet's time.
func (t *Table) Observe(p *Packet) {
	t.packets++
	now := p.Time
	p.Node = t.name(p.Src, p.SrcMAC)
	k := Key{Group{p.Interface, p.Family(), p.VRID}, p.Src}
	r := t.rows[k]
	if r == nil {
		r = &Row{Key: k, FirstSeen: now}
		t.rows[k] = r
		t.groups[k.Group] = append(t.groups[k.Group], r)
	}
	r.Packets++
	if now.After(r.LastSeen) {
		r.LastSeen = now
	}
	if len(p.SrcMAC) > 0 {
		r.SrcMAC = p.SrcMAC
	}
	if p.HasHeader && (p.Version == 2 || p.Version == 3) && p.VRID > 0 && k.Family != 0 {
		t.used[k.Family][p.VRID] = true
	}
	if !p.Valid {
		t.invalid++
		p.Flags |= FlagInvalid
		r.Flags |= FlagInvalid
		r.Invalid++
		r.LastError = p.Error
		if !r.valid {
			r.setFields(p)
		}
		return
	}
	if p.Priority == vrrp.PriorityStop {
		p.Flags |= FlagResign
		r.Flags |= FlagResign
		r.runStart = time.Time{}
	} else if r.runStart.IsZero() || !r.live(now) {
		r.runStart = now
	}
	r.setFields(p)
	r.valid, r.lastValid = true, now
	t.compare(p, r, now)
}

// setFields copies the advertisement's fields into the row.
func (r *Row) setFields(p *Packet) {
	r.Version, r.Priority, r.Interval = p.Version, p.Priority, p.Interval()
	r.AuthType, r.AuthData, r.AH = p.AuthType, p.AuthData, p.AH
	r.Addresses = p.Addresses
}

// compare checks the packet's row against the other live sources of its
// group.
func (t *Table) compare(p *Packet, r *Row, now time.Time) {
	ad := advertOf(p)
	for _, o := range t.groups[r.Group] {
		if o == r || !o.valid || !(o.live(now) || now.Before(o.lastValid)) {
			continue
		}
		oad := Advert{Version: vrrp.Version(o.Version), Interval: o.Interval, VIPs: o.Addresses}
		if o.Version == 2 {
			oad.AuthType, oad.AuthData = vrrp.AuthType(o.AuthType), o.AuthData
		}
		if m := Compare(ad, oad); m != 0 {
			p.Flags |= FlagConflict
			p.ConflictWith = append(p.ConflictWith, o.Src)
			t.pair(FlagConflict, r, o, m, now)
			continue
		}
		if r.runStart.IsZero() || o.runStart.IsZero() {
			continue
		}
		start := r.runStart
		if o.runStart.After(start) {
			start = o.runStart
		}
		if now.Sub(start) > max(r.masterDown(), o.masterDown()) {
			p.Flags |= FlagDualMaster
			p.DualMasterWith = append(p.DualMasterWith, o.Src)
			t.pair(FlagDualMaster, r, o, 0, now)
		}
	}
}

// pair records a finding between rows r and o and marks both.
func (t *Table) pair(flag Flags, r, o *Row, m Mismatch, now time.Time) {
	a, b := r.Src, o.Src
	if b.Less(a) {
		a, b = b, a
	}
	fk := findingKey{r.Group, flag, a, b}
	f := t.findings[fk]
	if f == nil {
		f = &Finding{Group: r.Group, Flag: flag, A: a, B: b, First: now}
		t.findings[fk] = f
	}
	f.Mismatch |= m
	if now.After(f.Last) {
		f.Last = now
	}
	for _, x := range [][2]*Row{{r, o}, {o, r}} {
		x[0].Flags |= flag
		with := &x[0].ConflictWith
		if flag == FlagDualMaster {
			with = &x[0].DualMasterWith
		}
		if !slices.Contains(*with, x[1].Src) {
			*with = append(*with, x[1].Src)
			slices.SortFunc(*with, netip.Addr.Compare)
		}
	}
}

// name finds a node name for a source: by address, else by its MAC. A
// source named by address teaches the Table its MAC, except VRRP's virtual
// MACs (00:00:5e:00:01:XX, :02:XX), which move from router to router.
func (t *Table) name(src netip.Addr, mac net.HardwareAddr) string {
	if n, ok := t.names[src]; ok {
		if len(mac) > 0 && !isVirtualMAC(mac) {
			t.macNames[mac.String()] = n
		}
		return n
	}
	if len(mac) > 0 && !isVirtualMAC(mac) {
		return t.macNames[mac.String()]
	}
	return ""
}

func isVirtualMAC(m net.HardwareAddr) bool {
	return len(m) == 6 && m[0] == 0 && m[1] == 0 && m[2] == 0x5e && m[3] == 0 && (m[4] == 1 || m[4] == 2)
}

// Rows returns copies of the rows, ordered by interface, family, VRID and
// source, with node names resolved as they stand now.
func (t *Table) Rows() []Row {
	out := make([]Row, 0, len(t.rows))
	for _, r := range t.rows {
		c := *r
		if c.Node == "" {
			c.Node = t.name(c.Src, c.SrcMAC)
		}
		c.Addresses = slices.Clone(r.Addresses)
		c.ConflictWith = slices.Clone(r.ConflictWith)
		c.DualMasterWith = slices.Clone(r.DualMasterWith)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Row) int { return compareKeys(a.Key, b.Key) })
	return out
}

// Findings returns every conflict and dual master seen, ordered by group,
// then conflicts before dual masters, then sources.
func (t *Table) Findings() []Finding {
	out := make([]Finding, 0, len(t.findings))
	for _, f := range t.findings {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(compareKeys(Key{Group: a.Group}, Key{Group: b.Group}), cmp.Compare(a.Flag, b.Flag),
			a.A.Compare(b.A), a.B.Compare(b.B))
	})
	return out
}
