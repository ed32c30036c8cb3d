package track

import (
	"slices"
	"testing"

	"github.com/hactl/hactl/pkg/config"
)

func script(name string, w int, rev bool, st Status) Tracked {
	return Tracked{Ref: Ref{Key: Key{KindScript, name}, Weight: w, Reverse: rev}, State: State{Status: st}}
}

func iface(name string, w int, rev bool, up bool) Tracked {
	st := StatusFailed
	if up {
		st = StatusOK
	}
	return Tracked{Ref: Ref{Key: Key{KindInterface, name}, Weight: w, Reverse: rev}, State: State{Status: st}}
}

func file(name string, w int, rev bool, v int64) Tracked {
	return Tracked{Ref: Ref{Key: Key{KindFile, name}, Weight: w, Reverse: rev}, State: State{Status: StatusOK, Value: v}}
}

func TestEffective(t *testing.T) {
	const ok, fail, unknown = StatusOK, StatusFailed, StatusUnknown
	tests := []struct {
		name     string
		base     int
		trackers []Tracked
		prio     int
		fault    bool
		pending  bool
		failing  []string
	}{
		{name: "no trackers", base: 100, prio: 100},
		{name: "positive weight adds while OK", base: 100, trackers: []Tracked{script("s", 10, false, ok)}, prio: 110},
		{name: "positive weight adds nothing while failing", base: 100, trackers: []Tracked{script("s", 10, false, fail)}, prio: 100, failing: []string{"script s"}},
		{name: "negative weight subtracts while failing", base: 100, trackers: []Tracked{script("s", -30, false, fail)}, prio: 70, failing: []string{"script s"}},
		{name: "negative weight nothing while OK", base: 100, trackers: []Tracked{script("s", -30, false, ok)}, prio: 100},
		{name: "reverse positive subtracts while OK", base: 100, trackers: []Tracked{script("s", 10, true, ok)}, prio: 90},
		{name: "reverse negative adds while failing", base: 100, trackers: []Tracked{script("s", -10, true, fail)}, prio: 110, failing: []string{"script s"}},
		{name: "unweighted failing is a fault", base: 100, trackers: []Tracked{script("s", 0, false, fail)}, prio: 100, fault: true, failing: []string{"script s"}},
		{name: "unweighted reverse OK is a fault", base: 100, trackers: []Tracked{script("s", 0, true, ok)}, prio: 100, fault: true, failing: []string{"script s"}},
		{name: "unweighted unknown is pending", base: 100, trackers: []Tracked{script("s", 0, false, unknown)}, prio: 100, pending: true},
		{name: "weighted unknown adds nothing", base: 100, trackers: []Tracked{script("s", 10, false, unknown), script("t", -10, false, unknown)}, prio: 100},
		{name: "clamped to 254", base: 250, trackers: []Tracked{script("s", 50, false, ok)}, prio: 254},
		{name: "clamped to 1", base: 10, trackers: []Tracked{script("s", -50, false, fail)}, prio: 1, failing: []string{"script s"}},
		{name: "owner stays 255", base: 255, trackers: []Tracked{script("s", -50, false, fail)}, prio: 255, failing: []string{"script s"}},
		{name: "owner still faults", base: 255, trackers: []Tracked{iface("eth0", 0, false, false)}, prio: 255, fault: true, failing: []string{"interface eth0"}},
		{name: "interface down is a fault", base: 100, trackers: []Tracked{iface("eth1", 0, false, false)}, prio: 100, fault: true, failing: []string{"interface eth1"}},
		{name: "interface weight", base: 100, trackers: []Tracked{iface("eth1", -20, false, false), iface("eth2", 5, false, true)}, prio: 85, failing: []string{"interface eth1"}},
		{name: "interface unknown counts as down", base: 100, trackers: []Tracked{{Ref: Ref{Key: Key{KindInterface, "x"}}}}, prio: 100, fault: true, failing: []string{"interface x"}},
		{name: "file value times weight", base: 100, trackers: []Tracked{file("f", 2, false, 5)}, prio: 110},
		{name: "file negative value", base: 100, trackers: []Tracked{file("f", 1, false, -30)}, prio: 70, failing: []string{"file f"}},
		{name: "file reverse", base: 100, trackers: []Tracked{file("f", 3, true, 5)}, prio: 85, failing: []string{"file f"}},
		{name: "file capped at 253", base: 1, trackers: []Tracked{file("f", 10, false, 1000)}, prio: 254},
		{name: "file -254 is a fault", base: 100, trackers: []Tracked{file("f", 1, false, -254)}, prio: 100, fault: true, failing: []string{"file f"}},
		{name: "file weight 0 non-zero is a fault", base: 100, trackers: []Tracked{file("f", 0, false, 7)}, prio: 100, fault: true, failing: []string{"file f"}},
		{name: "file weight 0 zero is fine", base: 100, trackers: []Tracked{file("f", 0, false, 0)}, prio: 100},
		{name: "file weight 0 reverse zero is a fault", base: 100, trackers: []Tracked{file("f", 0, true, 0)}, prio: 100, fault: true, failing: []string{"file f"}},
		{name: "sum of several", base: 100, trackers: []Tracked{script("a", 10, false, ok), script("b", -20, false, fail), file("f", 1, false, 3), iface("e", 0, false, true)}, prio: 93, failing: []string{"script b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Effective(tt.base, tt.trackers...)
			if p.Priority != tt.prio || p.Fault != tt.fault || p.Pending != tt.pending || !slices.Equal(p.Failing, tt.failing) {
				t.Errorf("got prio %d fault %v pending %v failing %v; want %d %v %v %v", p.Priority, p.Fault, p.Pending, p.Failing, tt.prio, tt.fault, tt.pending, tt.failing)
			}
			if len(p.Trackers) != len(tt.trackers) {
				t.Errorf("%d contributions for %d trackers", len(p.Trackers), len(tt.trackers))
			}
		})
	}
}

// The acceptance scenario at the tracker level: a failing script lowers the
// priority by its weight below the peer's, and recovering restores it.
func TestEffectiveMovesMastership(t *testing.T) {
	const peer = 90
	healthy := Effective(100, script("chk", -20, false, StatusOK))
	failed := Effective(100, script("chk", -20, false, StatusFailed))
	if !(healthy.Priority > peer && failed.Priority < peer) {
		t.Errorf("healthy %d, failed %d, peer %d: mastership would not move", healthy.Priority, failed.Priority, peer)
	}
}

func TestInstanceRefs(t *testing.T) {
	cfg := &config.Config{SyncGroups: []*config.SyncGroup{
		{Name: "G", TrackScripts: []config.TrackRef{{Name: "gs", Weight: 5}}, TrackInterfaces: []config.TrackInterface{{Name: "eth0", Weight: 7}}},
		{Name: "W", TrackingWeight: true, TrackFiles: []config.TrackRef{{Name: "gf", Weight: 3}}},
	}}
	tests := []struct {
		name string
		in   config.Instance
		want []Ref
	}{
		{name: "primary interface tracked", in: config.Instance{Interface: "eth0"},
			want: []Ref{{Key: Key{KindInterface, "eth0"}}}},
		{name: "dont_track_primary", in: config.Instance{Interface: "eth0", DontTrackPrimary: true}},
		{name: "unicast without interface", in: config.Instance{}},
		{name: "all kinds with weights", in: config.Instance{Interface: "eth0",
			TrackInterfaces: []config.TrackInterface{{Name: "eth1", Weight: -10, Reverse: true}},
			TrackScripts:    []config.TrackRef{{Name: "chk", Weight: -20}},
			TrackFiles:      []config.TrackRef{{Name: "f", Weight: 2}}},
			want: []Ref{{Key: Key{KindInterface, "eth0"}}, {Key: Key{KindInterface, "eth1"}, Weight: -10, Reverse: true},
				{Key: Key{KindScript, "chk"}, Weight: -20}, {Key: Key{KindFile, "f"}, Weight: 2}}},
		{name: "weighted primary duplicate stays unweighted", in: config.Instance{Interface: "eth0",
			TrackInterfaces: []config.TrackInterface{{Name: "eth0", Weight: 10}}},
			want: []Ref{{Key: Key{KindInterface, "eth0"}}}},
		{name: "sync group trackers without tracking weight", in: config.Instance{Interface: "eth1", SyncGroup: "G"},
			want: []Ref{{Key: Key{KindInterface, "eth1"}}, {Key: Key{KindInterface, "eth0"}}, {Key: Key{KindScript, "gs"}}}},
		{name: "sync group trackers with tracking weight", in: config.Instance{DontTrackPrimary: true, Interface: "eth1", SyncGroup: "W"},
			want: []Ref{{Key: Key{KindFile, "gf"}, Weight: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := InstanceRefs(cfg, &tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
