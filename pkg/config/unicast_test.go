package config

import (
	"strings"
	"testing"
)

// TestUnicastKeywords: issue 17's unicast keywords as keepalived 2.2.7
// reads them (vrrp_parser.c, global_parser.c, vrrp.c
// vrrp_complete_instance), with the diagnostics each gives.
func TestUnicastKeywords(t *testing.T) {
	const peer = "  unicast_peer {\n    192.0.2.2 min_ttl 250 max_ttl 254\n  }\n"
	tests := []struct {
		name  string
		src   string
		get   func(in *Instance) any
		want  string
		diags []string // substrings, one per expected diagnostic line
	}{
		{"fault_no_peer without peers", withInst("  unicast_fault_no_peer\n"),
			func(in *Instance) any {
				return sp(in.Unicast, in.UnicastFaultNoPeer, in.ConfigFault != "", in.McastGroup)
			},
			"false true true 224.0.0.18", []string{"warning: (VI_1) unicast_fault_no_peer and no unicast_peer: the instance stays in FAULT"}},
		{"fault_no_peer with peers", withInst("  unicast_fault_no_peer\n  check_unicast_src\n" + peer),
			func(in *Instance) any { return sp(in.Unicast, in.UnicastFaultNoPeer, in.ConfigFault == "") }, "true true true", nil},
		{"check_unicast_src alone falls back to multicast", withInst("  check_unicast_src\n"),
			func(in *Instance) any { return sp(in.Unicast, in.CheckUnicastSrc, in.ConfigFault == "") },
			"false true true", []string{"a unicast keyword is given without unicast_peer; using multicast"}},
		{"unicast without check_unicast_src warns", withInst(peer),
			func(in *Instance) any {
				return sp(in.CheckUnicastSrc, in.UnicastPeers[0].MinTTL, in.UnicastPeers[0].MaxTTL)
			},
			"false 250 254", []string{"(VI_1) no check_unicast_src: keepalived 2.2.7 then accepts unicast adverts from any source"}},
		{"vrrp_check_unicast_src", "global_defs {\n vrrp_check_unicast_src\n}\n" + withInst(peer),
			func(in *Instance) any { return in.CheckUnicastSrc }, "true", nil},
		{"skip_check_adv_addr", withInst("  skip_check_adv_addr\n"),
			func(in *Instance) any { return in.SkipCheckAdvAddr }, "true", nil},
		{"skip_check_adv_addr false still sets it", withInst("  skip_check_adv_addr false\n"),
			func(in *Instance) any { return in.SkipCheckAdvAddr }, "true",
			[]string{"skip_check_adv_addr false: keepalived 2.2.7 sets skip_check_adv_addr for any valid value"}},
		{"vrrp_skip_check_adv_addr", "global_defs {\n vrrp_skip_check_adv_addr\n}\n" + withInst(""),
			func(in *Instance) any { return in.SkipCheckAdvAddr }, "true", nil},
		{"unicast_ttl", withInst("  unicast_ttl 10\n  check_unicast_src\n" + peer),
			func(in *Instance) any { return *in.UnicastTTL }, "10", nil},
		{"unicast_ttl without peers", withInst("  unicast_ttl 10\n"),
			func(in *Instance) any { return in.UnicastTTL == nil }, "true",
			[]string{"corrected: (VI_1) unicast_ttl without unicast peers: keepalived reports \"Cannot use unicast_ttl without unicast peers - resetting\""}},
		{"unicast_ttl out of range", withInst("  unicast_ttl 256\n  check_unicast_src\n" + peer),
			func(in *Instance) any { return in.UnicastTTL == nil }, "true", []string{"corrected: (VI_1) unicast_ttl \"256\" is not valid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, cfg := one(t, tc.src)
			_ = cfg
			if got := sp(tc.get(in)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			_, diags := parseString(t, tc.src)
			var lines []string
			for _, d := range diags {
				if s := d.String(); !strings.Contains(s, "no virtual_ipaddress") {
					lines = append(lines, s)
				}
			}
			if len(lines) != len(tc.diags) {
				t.Fatalf("diagnostics:\n%s\nwant %d: %q", strings.Join(lines, "\n"), len(tc.diags), tc.diags)
			}
			for i, want := range tc.diags {
				if !strings.Contains(lines[i], want) {
					t.Errorf("diagnostic %d: %s\nwant it to contain %q", i, lines[i], want)
				}
			}
		})
	}
}
