package daemon

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

func srcN(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// TestConflictTableCapped: a flood of new sources keeps at most conflictCap
// of them, the most recently heard, and counts the rest as evicted; a
// source that keeps sending is not evicted by one-packet sources.
func TestConflictTableCapped(t *testing.T) {
	tab := newConflictTable()
	now := time.Unix(1700000000, 0)
	steady := netip.MustParseAddr("192.0.2.1")
	const n = 5000
	for i := range n {
		now = now.Add(time.Millisecond)
		if i%(conflictCap/2) == 0 {
			tab.record(steady, watch.MismatchVIPs, now)
		}
		tab.record(srcN(i), watch.MismatchVIPs, now)
	}
	if len(tab.bySrc) != conflictCap {
		t.Fatalf("%d sources tracked, want the cap %d", len(tab.bySrc), conflictCap)
	}
	if want := uint64(n + 1 - conflictCap); tab.evicted != want {
		t.Errorf("evicted %d, want %d", tab.evicted, want)
	}
	if tab.bySrc[steady] == nil {
		t.Error("the steady source was evicted by one-packet sources")
	}
	if tab.bySrc[srcN(n-1)] == nil || tab.bySrc[srcN(0)] != nil {
		t.Error("the table does not keep the most recently heard sources")
	}
	if tab.counts["vips"] != uint64(n)+tab.bySrc[steady].packets {
		t.Errorf("counts %v: every packet is counted, tracked or not", tab.counts)
	}
	conflicts, counts := tab.snapshot()
	if len(conflicts) != conflictCap || counts["vips"] != tab.counts["vips"] {
		t.Errorf("snapshot: %d conflicts, counts %v", len(conflicts), counts)
	}
}

// TestConflictRecordLogs: a source is worth a line when new, when what
// differs changes, and again after conflictLogEvery; not per packet.
func TestConflictRecordLogs(t *testing.T) {
	tab := newConflictTable()
	src := netip.MustParseAddr("192.0.2.7")
	t0 := time.Unix(1700000000, 0)
	for _, step := range []struct {
		at   time.Duration
		m    watch.Mismatch
		want bool
	}{
		{0, watch.MismatchVIPs, true},
		{time.Second, watch.MismatchVIPs, false},
		{2 * time.Second, watch.MismatchVIPs | watch.MismatchInterval, true},
		{3 * time.Second, watch.MismatchVIPs | watch.MismatchInterval, false},
		{2*time.Second + conflictLogEvery, watch.MismatchVIPs | watch.MismatchInterval, true},
	} {
		if _, got := tab.record(src, step.m, t0.Add(step.at)); got != step.want {
			t.Errorf("at %v (%v): log %v, want %v", step.at, step.m, got, step.want)
		}
	}
}

func TestLogBudget(t *testing.T) {
	var b logBudget
	t0 := time.Unix(1700000000, 0)
	for i := range conflictLogBurst {
		if !b.take(t0) {
			t.Fatalf("line %d of the burst refused", i+1)
		}
	}
	if b.take(t0) {
		t.Fatal("a line over the burst allowed")
	}
	refill := time.Minute / conflictLogPerMinute
	if b.take(t0.Add(refill / 2)) {
		t.Error("a line allowed before the refill")
	}
	if !b.take(t0.Add(refill)) {
		t.Error("no line allowed after the refill")
	}
	if n := countTakes(&b, t0.Add(time.Hour), 100); n != conflictLogBurst {
		t.Errorf("after an hour of quiet %d lines allowed at once, want the burst %d", n, conflictLogBurst)
	}
}

func countTakes(b *logBudget, at time.Time, max int) int {
	n := 0
	for range max {
		if b.take(at) {
			n++
		}
	}
	return n
}

// floodRuntime is a runtime with one VRRPv2 instance (VRID 51, password
// s3cret, VIP 10.77.0.100) and a log in a buffer, enough for receive.
func floodRuntime(t *testing.T) (*runtime, *sock, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	r := &runtime{log: slog.New(slog.NewTextHandler(&logs, nil)), drops: map[string]uint64{}, clock: realClock{},
		events: make(chan event, 16), done: make(chan struct{})}
	t.Cleanup(func() { close(r.done) })
	s := &sock{family: 4, byVRID: map[uint8]*instance{}}
	c := &config.Instance{Name: "VI_1", Interface: "eth0", VRID: 51, Version: 2, Priority: 100, AdvertInt: time.Second,
		Family: config.FamilyIPv4, SrcIP: netip.MustParseAddr("10.77.0.11"), McastGroup: vrrpsock.Group4,
		Auth: &config.Auth{Type: "PASS", Password: "s3cret"}, VIPs: []config.VIP{{Prefix: netip.MustParsePrefix("10.77.0.100/24")}}}
	in, err := newInstance(c, s)
	if err != nil {
		t.Fatal(err)
	}
	s.byVRID[51] = in
	r.insts = []*instance{in}
	return r, s, &logs
}

// advertPacket is a VRRPv2 advert of vrid from src to the group.
func advertPacket(t *testing.T, vrid uint8, src netip.Addr, password string, vip string) vrrpsock.Packet {
	t.Helper()
	a := vrrp.Advertisement{Version: vrrp.Version2, VRID: vrid, Priority: 50, Interval: time.Second}
	if password != "" {
		pw, err := vrrp.Password(password)
		if err != nil {
			t.Fatal(err)
		}
		a.AuthType, a.AuthData = vrrp.AuthSimple, pw
	}
	if err := a.SetAddrs(netip.MustParseAddr(vip)); err != nil {
		t.Fatal(err)
	}
	b, err := a.Marshal(src, vrrpsock.Group4)
	if err != nil {
		t.Fatal(err)
	}
	return vrrpsock.Packet{Payload: b, Src: src, Dst: vrrpsock.Group4, TTL: 255}
}

// TestReceiveAuthenticatesBeforeConflicts: adverts with other VIPs and a
// wrong password, one source each, are auth drops and make no conflict
// entry; the same with the right password fill the capped table, log a
// burst of lines and count the rest as evicted; other VRIDs are counted
// per socket.
func TestReceiveAuthenticatesBeforeConflicts(t *testing.T) {
	r, s, logs := floodRuntime(t)
	in := r.insts[0]
	const n = 3000
	for i := range n {
		r.receive(s, advertPacket(t, 51, srcN(i), "guessed", "10.9.9.9"))
	}
	if len(in.conflicts.bySrc) != 0 || in.conflicts.counts["vips"] != 0 || r.drops["auth"] != n {
		t.Fatalf("wrong password: %d conflict entries, counts %v, drops %v; want 0 entries and %d auth drops",
			len(in.conflicts.bySrc), in.conflicts.counts, r.drops, n)
	}
	if strings.Contains(logs.String(), "VRID conflict") {
		t.Errorf("wrong-password adverts logged as conflicts:\n%s", logs.String())
	}
	for i := range n {
		r.receive(s, advertPacket(t, 51, srcN(i), "s3cret", "10.9.9.9"))
	}
	if len(in.conflicts.bySrc) != conflictCap || in.conflicts.evicted != n-conflictCap || in.conflicts.counts["vips"] != n {
		t.Errorf("valid password: %d entries, %d evicted, counts %v; want %d, %d, vips=%d",
			len(in.conflicts.bySrc), in.conflicts.evicted, in.conflicts.counts, conflictCap, n-conflictCap, n)
	}
	if lines := strings.Count(logs.String(), "VRID conflict"); lines != conflictLogBurst {
		t.Errorf("%d conflict lines for %d new sources, want the burst of %d", lines, n, conflictLogBurst)
	}
	if in.conflicts.suppressed != n-conflictLogBurst || !in.conflicts.summaryArmed {
		t.Errorf("suppressed %d (summary armed %v), want %d", in.conflicts.suppressed, in.conflicts.summaryArmed, n-conflictLogBurst)
	}
	r.conflictSummary(in)
	if !strings.Contains(logs.String(), "suppressed="+strconv.Itoa(n-conflictLogBurst)) || in.conflicts.suppressed != 0 {
		t.Errorf("summary line missing:\n%s", lastLine(logs.String()))
	}
	st := in.status(time.Now())
	if len(st.Conflicts) != conflictCap || st.ConflictSourcesEvicted != n-conflictCap {
		t.Errorf("status: %d conflicts, %d evicted", len(st.Conflicts), st.ConflictSourcesEvicted)
	}
	for range 10 {
		r.receive(s, advertPacket(t, 52, srcN(1), "s3cret", "10.9.9.9"))
	}
	if s.otherVRID != 10 || r.drops["other_vrid"] != 0 {
		t.Errorf("other VRID: socket counted %d, drops %v; want 10 on the socket, none as drops", s.otherVRID, r.drops)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
