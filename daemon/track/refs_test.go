package track

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

func vip(s, dev string, noTrack bool) config.VIP {
	return config.VIP{Prefix: mustPrefix(s), Dev: dev, NoTrack: noTrack}
}

// TestAddressInterfaces follows keepalived's vrrp_complete_instance: the
// interfaces of VIPs, excluded VIPs and routes are tracked unless
// no_track; dont_track_primary spares addresses on the instance's own
// interface, not routes; a route without dev is not tracked.
func TestAddressInterfaces(t *testing.T) {
	tests := []struct {
		name string
		in   config.Instance
		want []string
	}{
		{"VIP on the own interface", config.Instance{Interface: "eth0", VIPs: []config.VIP{vip("10.0.0.1/24", "", false)}}, []string{"eth0"}},
		{"VIP on another interface", config.Instance{Interface: "eth0", VIPs: []config.VIP{vip("10.0.0.1/24", "eth1", false)}}, []string{"eth1"}},
		{"no_track", config.Instance{Interface: "eth0", VIPs: []config.VIP{vip("10.0.0.1/24", "eth1", true)}}, nil},
		{"excluded VIP", config.Instance{Interface: "eth0", ExcludedVIPs: []config.VIP{vip("10.0.1.1/24", "eth2", false)}}, []string{"eth2"}},
		{"dont_track_primary spares the own interface", config.Instance{Interface: "eth0", DontTrackPrimary: true,
			VIPs: []config.VIP{vip("10.0.0.1/24", "", false), vip("10.0.0.2/24", "eth0", false), vip("10.0.0.3/24", "eth1", false)}}, []string{"eth1"}},
		{"routes with dev, even the own one under dont_track_primary", config.Instance{Interface: "eth0", DontTrackPrimary: true,
			Routes: []config.Route{{Dev: "eth0"}, {Dev: "eth3"}, {Dev: "eth4", NoTrack: true}, {}}}, []string{"eth0", "eth3"}},
		{"each once", config.Instance{Interface: "eth0", VIPs: []config.VIP{vip("10.0.0.1/24", "eth1", false), vip("10.0.0.2/24", "eth1", false)},
			Routes: []config.Route{{Dev: "eth1"}}}, []string{"eth1"}},
		{"unicast without interface", config.Instance{VIPs: []config.VIP{vip("10.0.0.1/24", "", false)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AddressInterfaces(&tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("AddressInterfaces = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestInstanceRefsProcessesAndAddresses: processes keep their weights
// (also from a sync group without sync_group_tracking_weight); a VIP's
// interface is unweighted, so it turns a weighted track_interface of the
// same interface into a fault, as keepalived's add_vrrp_to_interface does.
func TestInstanceRefsProcessesAndAddresses(t *testing.T) {
	in := &config.Instance{Name: "VI_1", Interface: "eth0", SyncGroup: "G",
		VIPs:            []config.VIP{vip("10.0.0.1/24", "eth1", false)},
		TrackInterfaces: []config.TrackInterface{{Name: "eth1", Weight: -10}},
		TrackProcesses:  []config.TrackRef{{Name: "p1", Weight: 10}, {Name: "p2"}}}
	cfg := &config.Config{Instances: []*config.Instance{in}, SyncGroups: []*config.SyncGroup{{Name: "G", Instances: []string{"VI_1"},
		TrackProcesses: []config.TrackRef{{Name: "p1", Weight: 30}, {Name: "p2", Weight: 5}, {Name: "p3", Weight: -7, Reverse: true}}}}}
	var got string
	for _, r := range InstanceRefs(cfg, in) {
		got += fmt.Sprintf("%s %d %v; ", r.Key, r.Weight, r.Reverse)
	}
	want := "interface eth0 0 false; interface eth1 0 false; process p1 30 false; process p2 0 false; process p3 -7 true; "
	if got != want {
		t.Errorf("refs\n got %s\nwant %s", got, want)
	}
}

// TestIfDelaysCapped: a debounce delay of (down_timer_adverts - 1)
// advert intervals or more is cut to just under it (keepalived's
// check_debounce_timers).
func TestIfDelaysCapped(t *testing.T) {
	cfg := &config.Config{
		IfDelays: []config.IfDelay{{Interface: "eth0", Down: 5 * time.Second, Up: time.Second}, {Interface: "eth1", Down: 3 * time.Second}, {Interface: "eth2"}},
		Instances: []*config.Instance{{Name: "VI_1", Interface: "eth0", AdvertInt: time.Second},
			{Name: "VI_2", Interface: "eth1", AdvertInt: 2 * time.Second}},
	}
	d := IfDelays(cfg, nil)
	capped := 2*time.Second - time.Second/256
	if d["eth0"].Down != capped || d["eth0"].Up != time.Second {
		t.Errorf("eth0 %+v: want down %v, up 1s", d["eth0"], capped)
	}
	if d["eth1"].Down != 3*time.Second {
		t.Errorf("eth1 %+v: 3s is under 2 * 2s", d["eth1"])
	}
	if _, ok := d["eth2"]; ok {
		t.Errorf("eth2 without delays listed")
	}
	// With down_timer_adverts 5 the limit is 4 intervals.
	cfg.Instances[0].Timing.DownTimerAdverts = 5
	if d := IfDelays(cfg, nil); d["eth0"].Down != 4*time.Second-time.Second/256 {
		t.Errorf("down_timer_adverts 5: eth0 %+v, want down just under 4s", d["eth0"])
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
