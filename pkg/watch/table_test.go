package watch

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// event is one scripted packet: at offset, on iface, advertisement a.
type event struct {
	at    time.Duration
	iface string
	a     adv
	mac   string
}

// every repeats a from start to end (inclusive) every step.
func every(start, end, step time.Duration, a adv) []event {
	var out []event
	for d := start; d <= end; d += step {
		out = append(out, event{at: d, a: a})
	}
	return out
}

// run feeds the events, in time order, to a new table and returns it with
// the observed packets.
func run(t *testing.T, o Options, evs ...[]event) (*Table, []Packet) {
	t.Helper()
	var all []event
	for _, e := range evs {
		all = append(all, e...)
	}
	slices.SortStableFunc(all, func(a, b event) int { return int(a.at - b.at) })
	tb := NewTable(o)
	var d Decoder
	var out []Packet
	for _, e := range all {
		iface := e.iface
		if iface == "" {
			iface = "eth0"
		}
		var mac net.HardwareAddr
		if e.mac != "" {
			mac, _ = net.ParseMAC(e.mac)
		}
		p, ok := d.Decode(Frame{Time: at(e.at), Interface: iface, SrcMAC: mac, Data: e.a.ipPacket(t)})
		if !ok {
			t.Fatalf("event at %v not VRRP", e.at)
		}
		tb.Observe(&p)
		out = append(out, p)
	}
	return tb, out
}

var (
	a1  = adv{src: "10.0.0.1", dst: "224.0.0.18", vrid: 60, prio: 100, vips: []string{"10.0.0.100"}}
	a2  = adv{src: "10.0.0.2", dst: "224.0.0.18", vrid: 60, prio: 90, vips: []string{"10.0.0.100"}}
	b1  = adv{src: "10.0.0.3", dst: "224.0.0.18", vrid: 60, prio: 100, vips: []string{"10.0.0.200"}}
	sec = time.Second
)

// with returns a copy of a changed by fn.
func with(a adv, fn func(*adv)) adv { fn(&a); return a }

// findings renders the table's findings for comparison.
func findings(tb *Table) []string {
	var out []string
	for _, f := range tb.Findings() {
		s := f.Flag.String() + " " + f.Interface + " " + f.Family.String() + " " + strconv.Itoa(f.VRID) + " " + f.A.String() + " " + f.B.String()
		if f.Mismatch != 0 {
			s += " (" + f.Mismatch.String() + ")"
		}
		out = append(out, s)
	}
	return out
}

func TestConflict(t *testing.T) {
	cases := []struct {
		name string
		evs  [][]event
		want []string
	}{
		{"different VIPs", [][]event{every(0, 3*sec, sec, a1), every(sec/2, 3*sec, sec, b1)},
			[]string{"CONFLICT eth0 IPv4 60 10.0.0.1 10.0.0.3 (VIPs)"}},
		{"same VIPs in another order", [][]event{
			every(0, 0, sec, with(a1, func(a *adv) { a.vips = []string{"10.0.0.100", "10.0.0.101"} })),
			every(sec/2, sec/2, sec, with(a2, func(a *adv) { a.vips = []string{"10.0.0.101", "10.0.0.100"} }))},
			nil},
		{"version", [][]event{every(0, 2*sec, sec, a1), every(sec/2, 2*sec, sec, with(a2, func(a *adv) { a.version = vrrp.Version2 }))},
			[]string{"CONFLICT eth0 IPv4 60 10.0.0.1 10.0.0.2 (version)"}},
		{"interval", [][]event{every(0, 2*sec, sec, a1), every(sec/2, 2*sec, sec, with(a2, func(a *adv) { a.interval = 2 * sec }))},
			[]string{"CONFLICT eth0 IPv4 60 10.0.0.1 10.0.0.2 (interval)"}},
		{"password", [][]event{
			every(0, 2*sec, sec, with(a1, func(a *adv) { a.version, a.pass = vrrp.Version2, "one" })),
			every(sec/2, 2*sec, sec, with(a2, func(a *adv) { a.version, a.pass = vrrp.Version2, "two" }))},
			[]string{"CONFLICT eth0 IPv4 60 10.0.0.1 10.0.0.2 (authentication)"}},
		{"another VRID", [][]event{every(0, 2*sec, sec, a1), every(sec/2, 2*sec, sec, with(b1, func(a *adv) { a.vrid = 61 }))}, nil},
		{"another segment", [][]event{every(0, 2*sec, sec, a1),
			func() []event {
				e := every(sec/2, 2*sec, sec, b1)
				for i := range e {
					e[i].iface = "eth1"
				}
				return e
			}()}, nil},
		{"another family", [][]event{every(0, 2*sec, sec, a1),
			every(sec/2, 2*sec, sec, adv{src: "fe80::3", dst: "ff02::12", vrid: 60, prio: 100, vips: []string{"2001:db8::1"}})}, nil},
		// The first cluster went away more than a Master_Down_Interval
		// before the second appeared: a reused VRID, not a conflict.
		{"not at the same time", [][]event{every(0, sec, sec, a1), every(10*sec, 12*sec, sec, b1)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb, _ := run(t, Options{}, c.evs...)
			if got := findings(tb); !slices.Equal(got, c.want) {
				t.Errorf("findings %q, want %q", got, c.want)
			}
		})
	}
}

func TestConflictFlagsPacketsAndRows(t *testing.T) {
	tb, pkts := run(t, Options{}, every(0, 2*sec, sec, a1), every(sec/2, 2*sec, sec, b1))
	if pkts[0].Flags != 0 {
		t.Errorf("first packet flagged %v before the other source was heard", pkts[0].Flags)
	}
	if p := pkts[1]; p.Flags != FlagConflict || len(p.ConflictWith) != 1 || p.ConflictWith[0].String() != "10.0.0.1" {
		t.Errorf("second packet: flags %v with %v", p.Flags, p.ConflictWith)
	}
	for _, r := range tb.Rows() {
		if r.Flags != FlagConflict || len(r.ConflictWith) != 1 {
			t.Errorf("row %v: flags %v with %v", r.Src, r.Flags, r.ConflictWith)
		}
	}
}

// TestDualMaster follows RFC 5798 §6.1: a backup stays silent, so two
// sources advertising one VRID and VIP set for longer than one
// Master_Down_Interval are two masters.
func TestDualMaster(t *testing.T) {
	mdi := vrrp.MasterDownInterval(vrrp.Version3, 100, sec) // 3.609375 s
	cases := []struct {
		name  string
		evs   [][]event
		want  bool
		first time.Duration // when the first packet is flagged
	}{
		{"both advertise from the start", [][]event{every(0, 6*sec, sec, a1), every(sec/2, 6*sec, sec, a2)}, true, 4*sec + sec/2},
		{"failover after the master died", [][]event{every(0, 5*sec, sec, a1), every(5*sec+mdi, 12*sec, sec, a2)}, false, 0},
		{"preemption: overlap of one interval", [][]event{every(0, 5*sec+sec/2, sec, a1), every(5*sec, 12*sec, sec, a2)}, false, 0},
		{"graceful stop with priority 0", [][]event{every(0, 4*sec, sec, a1), every(4*sec+sec/4, 4*sec+sec/4, sec, with(a1, func(a *adv) { a.prio = 0 })),
			every(4*sec+sec/2, 12*sec, sec, a2)}, false, 0},
		{"split brain starts later", [][]event{every(0, 12*sec, sec, a1), every(6*sec, 12*sec, sec, a2)}, true, 10 * sec},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb, pkts := run(t, Options{}, c.evs...)
			got := slices.ContainsFunc(findings(tb), func(s string) bool { return strings.HasPrefix(s, "DUAL-MASTER") })
			if got != c.want {
				t.Fatalf("dual master %v, want %v (%q)", got, c.want, findings(tb))
			}
			if !c.want {
				return
			}
			for _, p := range pkts {
				if p.Flags&FlagDualMaster != 0 {
					if d := p.Time.Sub(t0); d != c.first {
						t.Errorf("first flagged at %v, want %v", d, c.first)
					}
					break
				}
			}
			// The acceptance bound: within 2 × Master_Down_Interval of both
			// advertising.
			if c.first > 2*mdi+c.evs[1][0].at {
				t.Errorf("flagged at %v, later than 2 × %v", c.first, mdi)
			}
		})
	}
}

func TestResignAndInvalidRows(t *testing.T) {
	bad := with(a2, func(a *adv) { a.ttl = 1 })
	tb, pkts := run(t, Options{}, every(0, sec, sec, a1), every(2*sec, 2*sec, sec, with(a1, func(a *adv) { a.prio = 0 })),
		every(sec/2, sec/2, sec, bad))
	if pkts[1].Flags != FlagInvalid || pkts[1].Error != "ttl" {
		t.Errorf("TTL 1 packet: flags %v error %q", pkts[1].Flags, pkts[1].Error)
	}
	if p := pkts[3]; p.Flags != FlagResign {
		t.Errorf("priority 0 packet: flags %v", p.Flags)
	}
	rows := tb.Rows()
	if len(rows) != 2 || rows[0].Flags != FlagResign || rows[0].Priority != 0 || rows[0].Packets != 3 ||
		rows[1].Flags != FlagInvalid || rows[1].LastError != "ttl" || rows[1].VRID != 60 || rows[1].Priority != 90 {
		t.Errorf("rows %+v", rows)
	}
	if total, invalid := tb.Packets(); total != 4 || invalid != 1 {
		t.Errorf("packets %d invalid %d", total, invalid)
	}
}

func TestFree(t *testing.T) {
	tb, _ := run(t, Options{}, every(0, 0, sec, a1), every(0, 0, sec, with(b1, func(a *adv) { a.vrid = 1 })),
		every(0, 0, sec, with(a2, func(a *adv) { a.vrid, a.ttl = 255, 1 })), // invalid, but the VRID is taken
		every(0, 0, sec, adv{src: "fe80::3", dst: "ff02::12", vrid: 7, prio: 100, vips: []string{"2001:db8::1"}}))
	if got := Ranges(tb.Free(vrrp.IPv4)); got != "2-59,61-254" {
		t.Errorf("free IPv4 %s", got)
	}
	if got := Ranges(tb.Free(vrrp.IPv6)); got != "1-6,8-255" {
		t.Errorf("free IPv6 %s", got)
	}
	if got := tb.Used(vrrp.IPv4); !slices.Equal(got, []int{1, 60, 255}) {
		t.Errorf("used IPv4 %v", got)
	}
	if got := Ranges(NewTable(Options{}).Free(vrrp.IPv4)); got != "1-255" {
		t.Errorf("nothing heard: free %s", got)
	}
}

func TestRanges(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{{nil, ""}, {[]int{5}, "5"}, {[]int{1, 2, 3, 7, 9, 10}, "1-3,7,9-10"}} {
		if got := Ranges(c.in); got != c.want {
			t.Errorf("Ranges(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNamesLearnedFromMAC(t *testing.T) {
	o := Options{Names: map[netip.Addr]string{netip.MustParseAddr("10.0.0.1"): "node1"}}
	ll := adv{src: "fe80::1", dst: "ff02::12", vrid: 60, prio: 100, vips: []string{"2001:db8::1"}}
	vmacSrc := adv{src: "fe80::9", dst: "ff02::12", vrid: 61, prio: 100, vips: []string{"2001:db8::9"}}
	tb, pkts := run(t, o,
		[]event{{at: 0, a: ll, mac: "02:00:00:00:00:01"}, {at: sec, a: a1, mac: "02:00:00:00:00:01"},
			{at: 2 * sec, a: a1, mac: "00:00:5e:00:01:3c"}, {at: 3 * sec, a: vmacSrc, mac: "00:00:5e:00:01:3c"}})
	if pkts[0].Node != "" || pkts[1].Node != "node1" || pkts[3].Node != "" {
		t.Errorf("packet nodes %q %q %q", pkts[0].Node, pkts[1].Node, pkts[3].Node)
	}
	// Rows resolve names at the end, so the link-local row heard before
	// the IPv4 advert is named too; the virtual MAC names nobody.
	for _, r := range tb.Rows() {
		want := "node1"
		if r.Src.String() == "fe80::9" {
			want = ""
		}
		if r.Node != want {
			t.Errorf("row %v: node %q, want %q", r.Src, r.Node, want)
		}
	}
}

func TestMasterDownInterval(t *testing.T) {
	for _, c := range []struct {
		v    vrrp.Version
		prio int
		ivl  time.Duration
		want time.Duration
	}{
		{vrrp.Version3, 100, sec, 3*sec + 156*sec/256},
		{vrrp.Version3, 255, 100 * time.Millisecond, 300*time.Millisecond + 100*time.Millisecond/256},
		{vrrp.Version2, 100, 2 * sec, 6*sec + 156*sec/256},
	} {
		if got := vrrp.MasterDownInterval(c.v, c.prio, c.ivl); got != c.want {
			t.Errorf("MasterDownInterval(%d, %d, %v) = %v, want %v", c.v, c.prio, c.ivl, got, c.want)
		}
	}
}

func TestFlagsNames(t *testing.T) {
	if got := (FlagInvalid | FlagConflict).String(); got != "CONFLICT,INVALID" {
		t.Errorf("got %q", got)
	}
	if got := Flags(0).Names(); got == nil || len(got) != 0 {
		t.Errorf("no flags: %#v", got)
	}
}

func TestMismatchNames(t *testing.T) {
	m := MismatchVIPs | MismatchInterval | MismatchAuth
	if got := m.String(); got != "VIPs, interval, authentication" {
		t.Errorf("String %q", got)
	}
	if got := strings.Join(m.Keys(), ","); got != "vips,interval,auth" {
		t.Errorf("Keys %q", got)
	}
	if Mismatch(0).Keys() != nil || MismatchVersion.Keys()[0] != "version" {
		t.Errorf("none %v, version %v", Mismatch(0).Keys(), MismatchVersion.Keys())
	}
}
