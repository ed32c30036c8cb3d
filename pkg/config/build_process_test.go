package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestTrackProcessBlock checks vrrp_track_process as keepalived 2.2.7's
// vrrp_tprocess_* handlers read it.
func TestTrackProcessBlock(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // fmt of the fields below
		diag string // a diagnostic that must appear ("" for none)
	}{
		{"defaults", "process sleep", "sleep [] none false w0 false q1-4294967295 0s/0s", ""},
		{"params imply exact and full_command", "process sleep 1000 x", "sleep [1000 x] exact true w0 false q1-4294967295 0s/0s", ""},
		{"param_match before process stays", "param_match partial\n  process sleep 1000", "sleep [1000] partial true w0 false q1-4294967295 0s/0s", ""},
		{"param_match alone is exact", "process sleep\n  param_match", "sleep [] exact true w0 false q1-4294967295 0s/0s", ""},
		{"param_match initial", "process sleep 10\n  param_match initial", "sleep [10] initial true w0 false q1-4294967295 0s/0s", ""},
		{"bad param_match ignored", "process sleep\n  param_match some", "sleep [] none false w0 false q1-4294967295 0s/0s", "invalid param_match"},
		{"full_command", "process /bin/sleep\n  full_command", "/bin/sleep [] none true w0 false q1-4294967295 0s/0s", ""},
		{"weight reverse", "process sleep\n  weight -254 reverse", "sleep [] none false w-254 true q1-4294967295 0s/0s", ""},
		{"weight out of range", "process sleep\n  weight 255", "sleep [] none false w0 false q1-4294967295 0s/0s", "weight must be between -254 and 254"},
		{"quorum", "process sleep\n  quorum 2\n  quorum_max 4", "sleep [] none false w0 false q2-4 0s/0s", ""},
		{"quorum over max ignored", "process sleep\n  quorum_max 2\n  quorum 3", "sleep [] none false w0 false q1-2 0s/0s", "greater than quorum_max"},
		{"quorum_max under quorum ignored", "process sleep\n  quorum 3\n  quorum_max 2", "sleep [] none false w0 false q3-4294967295 0s/0s", "less than quorum"},
		{"quorum_max 0 tracks absence", "process sleep\n  quorum_max 0", "sleep [] none false w0 false q0-0 0s/0s", ""},
		{"delay sets both", "process sleep\n  delay 1.5", "sleep [] none false w0 false q1-4294967295 1.5s/1.5s", ""},
		{"terminate and fork", "process sleep\n  terminate_delay 2\n  fork_delay 0.25", "sleep [] none false w0 false q1-4294967295 2s/250ms", ""},
		{"delay out of range", "process sleep\n  delay 3601", "sleep [] none false w0 false q1-4294967295 0s/0s", "outside range"},
		{"long comm never matches", "process averyveryverylongname", "averyveryverylongname [] none false w0 false q1-4294967295 0s/0s", "longer than the 15 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := parseString(t, "vrrp_track_process tp {\n  "+tt.body+"\n}\n"+withInst("  track_process {\n    tp\n  }\n"))
			if len(cfg.TrackProcesses) != 1 {
				t.Fatalf("want one vrrp_track_process, got %d\n%s", len(cfg.TrackProcesses), diags)
			}
			p := cfg.TrackProcesses[0]
			pm := string(p.ParamMatch)
			if pm == "" {
				pm = "none"
			}
			got := fmt.Sprintf("%s %v %s %v w%d %v q%d-%d %v/%v", p.Process, p.Params, pm, p.FullCommand, p.Weight, p.WeightReverse, p.Quorum, p.QuorumMax, p.TerminateDelay, p.ForkDelay)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if tt.diag != "" && !strings.Contains(diags.String(), tt.diag) {
				t.Errorf("no diagnostic with %q:\n%s", tt.diag, diags)
			}
			if tt.diag == "" && len(diags) > 0 {
				t.Errorf("unexpected diagnostics:\n%s", diags)
			}
		})
	}
}

// TestTrackProcessRefs checks track_process references: weights from the
// definition or the line (±254 kept), a definition further down not
// found, duplicates dropped, a missing process dropping the block, and a
// sync group's weights kept unless a member is the address owner.
func TestTrackProcessRefs(t *testing.T) {
	defs := "vrrp_track_process a {\n  process sleep\n  weight 5 reverse\n}\nvrrp_track_process b {\n  process cat\n}\n"
	in, _ := one(t, defs+withInst("  track_process {\n    a\n    b weight -254\n    a\n  }\n"))
	got := fmt.Sprint(in.TrackProcesses)
	if len(in.TrackProcesses) != 2 || in.TrackProcesses[0].Weight != 5 || !in.TrackProcesses[0].Reverse || in.TrackProcesses[1].Weight != -254 {
		t.Errorf("refs %s: want a (5 reverse), b (-254)", got)
	}

	cfg, diags := parseString(t, withInst("  track_process {\n    later\n  }\n")+"vrrp_track_process later {\n  process sleep\n}\n")
	if len(cfg.Instances[0].TrackProcesses) != 0 || !strings.Contains(diags.String(), "defined further down") {
		t.Errorf("a definition further down: refs %v\n%s", cfg.Instances[0].TrackProcesses, diags)
	}

	cfg, diags = parseString(t, "vrrp_track_process empty {\n  weight 2\n}\n"+withInst("  track_process {\n    empty\n  }\n"))
	if len(cfg.TrackProcesses) != 0 || len(cfg.Instances[0].TrackProcesses) != 0 || !strings.Contains(diags.String(), "has no process") {
		t.Errorf("no process: %v %v\n%s", cfg.TrackProcesses, cfg.Instances[0].TrackProcesses, diags)
	}

	group := func(prio int) string {
		return defs + "vrrp_instance VI_1 {\n" + base + fmt.Sprintf("  priority %d\n", prio) + "}\n" +
			"vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 52\n  virtual_ipaddress {\n    192.0.2.11/24\n  }\n}\n" +
			"vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n  track_process {\n    a weight 7\n  }\n}\n"
	}
	cfg, _ = parseString(t, group(100))
	if w := cfg.SyncGroups[0].TrackProcesses[0].Weight; w != 7 {
		t.Errorf("sync group without sync_group_tracking_weight: weight %d, want 7 (keepalived keeps process weights)", w)
	}
	cfg, diags = parseString(t, group(255))
	if w := cfg.SyncGroups[0].TrackProcesses[0].Weight; w != 0 || !strings.Contains(diags.String(), "weighted track process") {
		t.Errorf("sync group with an address owner: weight %d, want 0\n%s", w, diags)
	}
}

// TestIfDelays checks interface_up_down_delays lines.
func TestIfDelays(t *testing.T) {
	cfg, diags := parseString(t, "interface_up_down_delays {\n  eth0 1.5 2\n  eth1 0.25\n  eth2\n  eth3 x\n  eth0 3\n}\n"+withInst(""))
	got := ""
	for _, d := range cfg.IfDelays {
		got += fmt.Sprintf("%s %v %v;", d.Interface, d.Down, d.Up)
	}
	if want := "eth0 3s 0s;eth1 250ms 0s;"; got != want {
		t.Errorf("delays %q, want %q", got, want)
	}
	for _, w := range []string{"no timeouts specified for eth2", "invalid down delay for eth3"} {
		if !strings.Contains(diags.String(), w) {
			t.Errorf("no diagnostic %q:\n%s", w, diags)
		}
	}
}

// TestIfDelaysHostCheck: an interface_up_down_delays line for an interface
// the host lacks is a host-dependent warning (keepalived -t exits 4 on it;
// its daemon ignores the line).
func TestIfDelaysHostCheck(t *testing.T) {
	cfg, _ := parseString(t, "interface_up_down_delays {\n  eth9 1\n  eth0 1\n}\n"+withInst(""))
	got := Check(cfg, fakeHost{ifaces: map[string]bool{"eth0": true}})
	if len(got) != 1 || !got[0].HostDependent || !strings.Contains(got[0].Message, "(interface_up_down_delays) interface eth9 does not exist on this host") {
		t.Errorf("host check: %v", got)
	}
}
