package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func parseString(t *testing.T, src string) (*Config, Diagnostics) {
	t.Helper()
	return Parse("test.conf", []byte(src), LoadOptions{})
}

// one parses src and returns its only instance, failing on errors.
func one(t *testing.T, src string) (*Instance, *Config) {
	t.Helper()
	cfg, diags := parseString(t, src)
	if diags.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", diags)
	}
	if len(cfg.Instances) != 1 {
		t.Fatalf("want 1 instance, got %d", len(cfg.Instances))
	}
	return cfg.Instances[0], cfg
}

const base = "  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.10/24\n  }\n"

func withInst(extra string) string { return "vrrp_instance VI_1 {\n" + base + extra + "}\n" }

// TestKeywords checks every keyword hactl reads, one row each: the value
// in the model after parsing (defaults filled in).
func TestKeywords(t *testing.T) {
	tests := []struct {
		keyword string
		src     string
		get     func(in *Instance, cfg *Config) any
		want    string
	}{
		{"defaults", withInst(""), func(in *Instance, _ *Config) any {
			return sp(in.Priority, in.State, in.Version, in.AdvertInt, in.Preempt, in.Accept, in.Family, in.McastGroup, in.GARP.MasterDelay, in.GARP.MasterRepeat)
		}, "100 BACKUP 2 1s true true inet 224.0.0.18 5s 5"},
		{"global defaults", withInst(""), func(_ *Instance, c *Config) any {
			g := c.Global
			return sp(g.VRRPVersion, g.McastGroup4, g.McastGroup6, g.StateFile, g.ControlSocket, g.GARP.MasterRefreshRepeat)
		}, "2 224.0.0.18 ff02::12 /run/hactl/state /run/hactl/hactl.sock 1"},
		{"router_id", "global_defs {\n router_id n1\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.RouterID }, "n1"},
		{"vrrp_version", "global_defs {\n vrrp_version 3\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.Version }, "3"},
		{"vrrp_mcast_group4", "global_defs {\n vrrp_mcast_group4 224.0.0.99\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.McastGroup }, "224.0.0.99"},
		{"vrrp_mcast_group6", "global_defs {\n vrrp_mcast_group6 ff02::99\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  fe80::1\n }\n}\n", func(in *Instance, _ *Config) any { return in.McastGroup }, "ff02::99"},
		{"script_user", "global_defs {\n script_user nobody nogroup\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.ScriptUser + ":" + c.Global.ScriptGroup }, "nobody:nogroup"},
		{"enable_script_security", "global_defs {\n enable_script_security\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.EnableScriptSecurity }, "true"},
		{"vrrp_strict", "global_defs {\n vrrp_strict\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return sp(in.Strict, in.Accept, in.GARP.LowerPrioRepeat) }, "true false 0"},
		{"vrrp_garp_master_delay", "global_defs {\n vrrp_garp_master_delay 2\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return sp(in.GARP.MasterDelay, in.GARP.LowerPrioDelay) }, "2s 2s"},
		{"vrrp_garp_master_repeat", "global_defs {\n vrrp_garp_master_repeat 3\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.GARP.MasterRepeat }, "3"},
		{"vrrp_garp_master_refresh", "global_defs {\n vrrp_garp_master_refresh 30\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.GARP.MasterRefresh }, "30s"},
		{"vrrp_garp_master_refresh_repeat", "global_defs {\n vrrp_garp_master_refresh_repeat 2\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.GARP.MasterRefreshRepeat }, "2"},
		{"vrrp_garp_lower_prio_delay", "global_defs {\n vrrp_garp_lower_prio_delay 7\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.GARP.LowerPrioDelay }, "7s"},
		{"vrrp_garp_lower_prio_repeat", "global_defs {\n vrrp_garp_lower_prio_repeat 9\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.GARP.LowerPrioRepeat }, "9"},
		{"vrrp_garp_interval", "global_defs {\n vrrp_garp_interval 0.002\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.GARPInterval }, "2ms"},
		{"vrrp_gna_interval", "global_defs {\n vrrp_gna_interval 0.5\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.GNAInterval }, "500ms"},
		{"vrrp_startup_delay", "global_defs {\n vrrp_startup_delay 5.5\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.StartupDelay }, "5.5s"},
		{"state_file", "global_defs {\n state_file /var/lib/hactl/s\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.StateFile }, "/var/lib/hactl/s"},
		{"control_socket", "global_defs {\n control_socket /run/x.sock\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Global.ControlSocket }, "/run/x.sock"},
		{"global notify_master_dir", "global_defs {\n notify_master_dir /etc/hactl/master.d\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.NotifyMasterDir }, "/etc/hactl/master.d"},
		{"global vip_lease", "global_defs {\n vip_lease 10\n}\n" + withInst(""), func(in *Instance, _ *Config) any { return in.VIPLease }, "10s"},
		{"interface", withInst(""), func(in *Instance, _ *Config) any { return in.Interface }, "eth0"},
		{"state MASTER", withInst("  state MASTER\n"), func(in *Instance, _ *Config) any { return sp(in.State, in.Priority) }, "MASTER 255"},
		{"state BACKUP", withInst("  state BACKUP\n  priority 255\n"), func(in *Instance, _ *Config) any { return sp(in.State, in.Priority) }, "BACKUP 255"},
		{"priority 255 implies MASTER", withInst("  priority 255\n"), func(in *Instance, _ *Config) any { return in.State }, "MASTER"},
		{"virtual_router_id", withInst(""), func(in *Instance, _ *Config) any { return in.VRID }, "51"},
		{"priority", withInst("  priority 42\n"), func(in *Instance, _ *Config) any { return in.Priority }, "42"},
		{"advert_int", withInst("  advert_int 3\n"), func(in *Instance, _ *Config) any { return in.AdvertInt }, "3s"},
		{"advert_int v3", withInst("  version 3\n  advert_int 0.35\n"), func(in *Instance, _ *Config) any { return in.AdvertInt }, "350ms"},
		{"version", withInst("  version 3\n"), func(in *Instance, _ *Config) any { return in.Version }, "3"},
		{"nopreempt", withInst("  nopreempt\n"), func(in *Instance, _ *Config) any { return in.Preempt }, "false"},
		{"preempt", withInst("  nopreempt\n  preempt\n"), func(in *Instance, _ *Config) any { return in.Preempt }, "true"},
		{"preempt_delay", withInst("  preempt_delay 2.5\n"), func(in *Instance, _ *Config) any { return in.PreemptDelay }, "2.5s"},
		{"unicast_src_ip", withInst("  unicast_src_ip 192.0.2.1\n  unicast_peer {\n    192.0.2.2 min_ttl 1 max_ttl 254\n    192.0.2.3\n  }\n"), func(in *Instance, _ *Config) any {
			return sp(in.SrcIP, in.Unicast, in.UnicastPeers[0].Addr, in.UnicastPeers[0].MinTTL, in.UnicastPeers[0].MaxTTL, in.UnicastPeers[1].MaxTTL, in.McastGroup.IsValid())
		}, "192.0.2.1 true 192.0.2.2 1 254 255 false"},
		{"mcast_src_ip", withInst("  mcast_src_ip 192.0.2.1\n"), func(in *Instance, _ *Config) any { return sp(in.SrcIP, in.Unicast) }, "192.0.2.1 false"},
		{"mcast_dst_ip", withInst("  mcast_dst_ip 224.0.0.200\n"), func(in *Instance, _ *Config) any { return in.McastGroup }, "224.0.0.200"},
		{"authentication", withInst("  authentication {\n    auth_type PASS\n    auth_pass s3cret\n  }\n"), func(in *Instance, _ *Config) any { return in.Auth.Type + ":" + in.Auth.Password }, "PASS:s3cret"},
		{"authentication AH", withInst("  authentication {\n    auth_type AH\n    auth_pass 123456789\n  }\n"), func(in *Instance, _ *Config) any { return sp(in.Auth.Type, in.Auth.Password, in.State) }, "AH 12345678 BACKUP"},
		{"authentication AH owner", "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 255\n authentication {\n  auth_type AH\n  auth_pass x\n }\n virtual_ipaddress {\n  192.0.2.10\n }\n}\n",
			func(in *Instance, _ *Config) any { return sp(in.Auth.Type, in.State) }, "AH MASTER"},
		{"virtual_ipaddress options", "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  192.0.2.5/24 dev eth1 label eth1:v brd + scope link no_track\n  192.0.2.6/24 brd 192.0.2.255\n }\n}\n", func(in *Instance, _ *Config) any {
			v := in.VIPs[0]
			return sp(v.Prefix, v.Dev, v.Label, v.Broadcast, v.Scope, v.NoTrack, in.VIPs[1].Broadcast)
		}, "192.0.2.5/24 eth1 eth1:v 192.0.2.255 link true 192.0.2.255"},
		{"virtual_ipaddress_excluded", withInst("  virtual_ipaddress_excluded {\n    2001:db8::5/64\n  }\n"), func(in *Instance, _ *Config) any { return in.ExcludedVIPs[0].Prefix }, "2001:db8::5/64"},
		{"virtual_routes", withInst("  virtual_routes {\n    src 192.0.2.10 to 198.51.100.0/24 via 192.0.2.1 dev eth0 table 10 metric 5\n    blackhole 203.0.113.0/24 no_track\n  }\n"), func(in *Instance, _ *Config) any {
			r := in.Routes[0]
			return sp(r.Src, r.Dest, r.Via, r.Dev, r.Table, *r.Metric, in.Routes[1].Type, in.Routes[1].Dest)
		}, "192.0.2.10 198.51.100.0/24 192.0.2.1 eth0 10 5 blackhole 203.0.113.0/24"},
		{"track_interface", withInst("  track_interface {\n    eth1\n    eth2 weight -20 reverse\n  }\n"), func(in *Instance, _ *Config) any {
			return sp(in.TrackInterfaces[0].Name, in.TrackInterfaces[0].Weight, in.TrackInterfaces[1].Weight, in.TrackInterfaces[1].Reverse)
		}, "eth1 0 -20 true"},
		{"vrrp_script and track_script", "vrrp_script chk {\n script \"/usr/bin/check --fast 'a b'\"\n interval 3\n timeout 2\n weight -10 reverse\n rise 2\n fall 4\n user nobody nogroup\n init_fail\n}\n" + withInst("  track_script {\n    chk\n  }\n"), func(in *Instance, c *Config) any {
			s := c.Scripts[0]
			return fmt.Sprintf("%q %v %v %d %v %d %d %s:%s %v | %s %d %v", s.Command.Args, s.Interval, s.Timeout, s.Weight, s.WeightReverse, s.Rise, s.Fall, s.Command.User, s.Command.Group, s.InitFail,
				in.TrackScripts[0].Name, in.TrackScripts[0].Weight, in.TrackScripts[0].Reverse)
		}, `["/usr/bin/check" "--fast" "a b"] 3s 2s -10 true 2 4 nobody:nogroup true | chk -10 true`},
		{"track_script weight override", "vrrp_script chk {\n script /bin/true\n weight 5\n}\n" + withInst("  track_script {\n    chk weight 20 noreverse\n  }\n"), func(in *Instance, _ *Config) any { return in.TrackScripts[0].Weight }, "20"},
		{"script timeout default", "vrrp_script chk {\n script /bin/true\n interval 4\n}\n" + withInst(""), func(_ *Instance, c *Config) any { return c.Scripts[0].Timeout }, "4s"},
		{"track_file", "track_file tf {\n file /run/tf\n weight 3 reverse\n init_file 7 overwrite\n}\n" + withInst("  track_file {\n    tf weight 254\n  }\n"), func(in *Instance, c *Config) any {
			f := c.TrackFiles[0]
			return sp(f.File, f.Weight, f.WeightReverse, f.InitFile, f.InitValue, f.Overwrite, in.TrackFiles[0].Weight, in.TrackFiles[0].Reverse)
		}, "/run/tf 3 true true 7 true 254 true"},
		{"dont_track_primary", withInst("  dont_track_primary\n"), func(in *Instance, _ *Config) any { return in.DontTrackPrimary }, "true"},
		{"notify scripts", withInst("  notify_master \"/bin/m a\" root\n  notify_backup /bin/b\n  notify_fault /bin/f\n  notify_stop /bin/s\n  notify /bin/n\n"), func(in *Instance, _ *Config) any {
			n := in.Notify
			return sp(n.Master.Args, n.Master.User, n.Backup.Args, n.Fault.Args, n.Stop.Args, n.Any.Args)
		}, "[/bin/m a] root [/bin/b] [/bin/f] [/bin/s] [/bin/n]"},
		{"garp instance", withInst("  garp_master_delay 1\n  garp_master_repeat 2\n  garp_master_refresh 3\n  garp_master_refresh_repeat 4\n  garp_lower_prio_delay 5\n  garp_lower_prio_repeat 6\n"), func(in *Instance, _ *Config) any {
			g := in.GARP
			return sp(g.MasterDelay, g.MasterRepeat, g.MasterRefresh, g.MasterRefreshRepeat, g.LowerPrioDelay, g.LowerPrioRepeat)
		}, "1s 2 3s 4 5s 6"},
		{"no_accept", withInst("  no_accept\n"), func(in *Instance, _ *Config) any { return in.Accept }, "false"},
		{"accept", "global_defs {\n vrrp_strict\n}\n" + withInst("  version 3\n  accept\n"), func(in *Instance, _ *Config) any { return in.Accept }, "true"},
		{"strict_mode", withInst("  strict_mode on\n"), func(in *Instance, _ *Config) any { return in.Strict }, "true"},
		{"use_vmac", withInst("  use_vmac vrrp51\n"), func(in *Instance, _ *Config) any { return sp(in.UseVMAC, in.VMACName) }, "true vrrp51"},
		{"notify_master_dir", withInst("  notify_master_dir /etc/hactl/m.d\n"), func(in *Instance, _ *Config) any { return in.NotifyMasterDir }, "/etc/hactl/m.d"},
		{"vip_lease", withInst("  vip_lease 30\n"), func(in *Instance, _ *Config) any { return in.VIPLease }, "30s"},
		{"vrrp_sync_group", withInst("") + "vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n  192.0.2.20\n }\n}\nvrrp_sync_group G {\n group {\n  VI_1 VI_2\n }\n notify_master /bin/gm\n track_interface {\n  eth3\n }\n}\n", func(in *Instance, c *Config) any {
			g := c.SyncGroups[0]
			return sp(g.Instances, g.Notify.Master.Args, g.TrackInterfaces[0].Name, in.SyncGroup)
		}, "[VI_1 VI_2] [/bin/gm] eth3 G"},
	}
	for _, tc := range tests {
		t.Run(tc.keyword, func(t *testing.T) {
			cfg, diags := parseString(t, tc.src)
			if diags.HasErrors() {
				t.Fatalf("unexpected errors:\n%s", diags)
			}
			in := cfg.Instances[0]
			if got := fmt.Sprint(tc.get(in, cfg)); got != tc.want {
				t.Errorf("got %q, want %q\ndiagnostics:\n%s", got, tc.want, diags)
			}
		})
	}
}

// TestDiagnostics checks the semantic errors and warnings, each with the
// position it must carry.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "line:col: [warning: ]message substring"
	}{
		{"vrid range", withInst("  virtual_router_id 256\n"), []string{"7:21: virtual_router_id \"256\" is not valid"}},
		{"priority range", withInst("  priority 0\n"), []string{"7:12: corrected: priority \"0\" is not valid (1 to 255): keepalived reports it and uses the default 100"}},
		{"advert_int range", withInst("  advert_int 300\n"), []string{"7:14: corrected: advert_int: number \"300\" outside range"}},
		{"weight range", withInst("  track_interface {\n    eth1 weight 255\n  }\n"), []string{"8:17: corrected: track_interface eth1: weight: number \"255\" outside range"}},
		{"weight 254 clamped", withInst("  track_interface {\n    eth1 weight -254\n  }\n"), []string{"8:17: corrected: track_interface eth1: weight -254 is out of range: keepalived reports it and uses -253"}},
		{"required vrid", "vrrp_instance X {\n interface eth0\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n", []string{"1:1: (X) virtual_router_id is required"}},
		{"required interface", "vrrp_instance X {\n virtual_router_id 3\n virtual_ipaddress {\n  192.0.2.1\n }\n}\n", []string{"1:1: (X) interface is required"}},
		{"one family", withInst("  virtual_ipaddress {\n    2001:db8::1\n  }\n"), []string{"8:5: corrected: (VI_1) 2001:db8::1/128: every virtual_ipaddress must be of one address family"}},
		{"duplicate vrid", withInst("") + "vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.11\n  }\n}\n",
			[]string{"10:3: (VI_2) VRID 51 is already used for IPv4 on interface eth0 by VI_1 at test.conf:1:1"}},
		{"same vrid other family", withInst("") + "vrrp_instance VI_6 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    fe80::1\n  }\n}\n", nil},
		{"same vrid other interface", withInst("") + "vrrp_instance VI_2 {\n  interface eth1\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.0.2.11\n  }\n}\n", nil},
		{"undefined track_script", withInst("  track_script {\n    nope\n  }\n"), []string{"8:5: corrected: (VI_1) track_script nope: no vrrp_script of that name is defined"}},
		{"undefined track_file", withInst("  track_file {\n    nope weight 2\n  }\n"), []string{"8:5: corrected: (VI_1) track_file nope: no track_file of that name is defined"}},
		{"nopreempt with MASTER", withInst("  state MASTER\n  priority 100\n  nopreempt\n"), []string{"9:3: warning: (VI_1) nopreempt does not work with state MASTER"}},
		{"v2 fractional advert", withInst("  advert_int 2.6\n"), []string{"7:14: warning: (VI_1) VRRPv2 advert_int 2.6 must be whole seconds; rounded to 3"}},
		{"v2 small advert", withInst("  advert_int 0.2\n"), []string{"7:14: warning: (VI_1) VRRPv2 advert_int 0.2 must be whole seconds; rounded to 1"}},
		{"v3 rounding", withInst("  version 3\n  advert_int 0.015\n"), []string{"8:14: warning: (VI_1) VRRPv3 advert_int 0.015 must be in units of 0.01; rounded to 0.02"}},
		{"too many VIPs", "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n" + manyV6(90) + " }\n}\n",
			[]string{"94:3: warning: (V) 90 virtual addresses do not fit in an advertisement (at most 89)"}},
		{"unknown keyword", withInst("  priorty 5\n"), []string{"7:3: corrected: unknown keyword \"priorty\" in vrrp_instance VI_1"}},
		{"unknown top level", "vrrp_instanse X {\n}\n", []string{"1:1: corrected: unknown keyword \"vrrp_instanse\" at top level"}},
		{"all errors reported", withInst("  priority 0\n  state FOO\n  advert_int x\n"), []string{"7:12: corrected: priority", "8:9: corrected: unknown state \"FOO\"", "9:14: corrected: advert_int: invalid number"}},
		{"ignored sections", "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  TCP_CHECK {\n  }\n }\n}\nstatic_routes {\n 1.2.3.0/24 dev eth0\n}\n" + withInst(""),
			[]string{"1:1: warning: hactl ignores what is outside its VRRP subset: virtual_server"}},
		{"notify without security", withInst("  notify_master /bin/true\n"), []string{"7:3: warning: scripts are configured but enable_script_security is not set"}},
		{"duplicate instance", withInst("") + withInst(""), []string{"8:15: corrected: vrrp_instance VI_1 is already defined at test.conf:1:1: keepalived reports it and skips this block"}},
		{"sync group unknown member", withInst("") + "vrrp_sync_group G {\n group {\n  VI_1\n  VI_9\n }\n}\n", []string{"11:3: corrected: vrrp_sync_group G: no vrrp_instance VI_9 is defined"}},
		{"auth ah lower case", withInst("  authentication {\n    auth_type ah\n    auth_pass x\n  }\n"), []string{"8:15: corrected: unknown auth_type \"ah\""}},
		{"auth AH state MASTER", "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 100\n authentication {\n  auth_type AH\n  auth_pass x\n }\n virtual_ipaddress {\n  192.0.2.10\n }\n}\n",
			[]string{"2:2: corrected: (VI_1) initial state MASTER does not go with AH authentication unless priority is 255"}},
		{"auth AH v3", "global_defs {\n vrrp_version 3\n}\n" + withInst("  authentication {\n    auth_type AH\n    auth_pass x\n  }\n"), []string{"10:3: warning: (VI_1) VRRP version 3 does not support authentication; ignored"}},
		{"vip_lease short", withInst("  advert_int 2\n  vip_lease 5\n"), []string{"8:13: warning: (VI_1) vip_lease 5s is shorter than three advert intervals"}},
		{"missing value", withInst("  priority\n"), []string{"7:3: priority needs a value"}},
		// keepalived reads "priority" alone (it exits: no value), then
		// "Unexpected '{'" and the block's lines as instance keywords.
		{"block on value keyword", withInst("  priority { 5 }\n"), []string{"7:3: priority needs a value", "7:12: corrected: '{' after priority, which takes no block"}},
		{"block after a value", withInst("  priority 90\n  {\n    advert_int 2\n  }\n"), []string{"8:3: corrected: '{' after priority, which takes no block: keepalived reads the line"}},
		{"bad vip option", withInst("  virtual_ipaddress {\n    192.0.2.9 devv eth0\n  }\n"), []string{"8:15: corrected: unknown option \"devv\" for address 192.0.2.9: keepalived reports it and ignores the option"}},
		{"v6 with brd", "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  fe80::1 brd + \n }\n}\n", []string{"5:11: corrected: an IPv6 address (fe80::1) cannot have a broadcast address: keepalived reports it and skips the address"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := parseString(t, tc.src)
			var got []string
			for _, d := range diags {
				got = append(got, strings.TrimPrefix(d.String(), "test.conf:"))
			}
			if len(tc.want) == 0 && len(diags) > 0 {
				t.Errorf("want no diagnostics, got:\n%s", diags)
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing diagnostic %q; got:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

func manyV6(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  fe80::%x\n", i)
	}
	return b.String()
}

func TestTooManyVIPsMoved(t *testing.T) {
	in, _ := one(t, "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n"+manyV6(90)+" }\n}\n")
	if len(in.VIPs) != 89 || len(in.ExcludedVIPs) != 1 || in.ExcludedVIPs[0].Prefix.Addr().String() != "fe80::5a" {
		t.Errorf("got %d VIPs and %v excluded", len(in.VIPs), in.ExcludedVIPs)
	}
}

func TestAdvertRounding(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want time.Duration
	}{
		{"advert_int 1.4", time.Second},
		{"advert_int 1.5", 2 * time.Second},
		{"advert_int 0.01", time.Second},
		{"version 3\n advert_int 0.014", 10 * time.Millisecond},
		{"version 3\n advert_int 0.125", 130 * time.Millisecond},
		{"version 3\n advert_int 50", 40950 * time.Millisecond},
	} {
		in, _ := one(t, withInst(" "+tc.src+"\n"))
		if in.AdvertInt != tc.want {
			t.Errorf("%s: got %v, want %v", tc.src, in.AdvertInt, tc.want)
		}
	}
}

// sp joins values with spaces.
func sp(args ...any) string { return strings.TrimSpace(fmt.Sprintln(args...)) }

func TestVIPLeaseAuto(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want time.Duration
	}{
		{"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", 6 * time.Second},
		{"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n version 3\n advert_int 0.1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", 3 * time.Second},
		// VRRPv2's skew is (256-p)/256 s whatever the interval: 9 s + 0.61 s + 2 s.
		{"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n advert_int 3\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", 12 * time.Second},
		// VRRPv3's scales with it: 9 s + 1.83 s + 2 s.
		{"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n version 3\n advert_int 3\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", 13 * time.Second},
		{"global_defs {\n vip_lease 0\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", 0},
		{"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n vip_lease 9\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", 9 * time.Second},
	} {
		cfg, diags := Parse("t.conf", []byte(tc.src), LoadOptions{})
		if diags.HasErrors() || len(cfg.Instances) != 1 {
			t.Fatalf("%s", diags.String())
		}
		if got := cfg.Instances[0].VIPLease; got != tc.want {
			t.Errorf("lease %v, want %v for:\n%s", got, tc.want, tc.src)
		}
	}
}
