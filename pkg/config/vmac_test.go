package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestVMACKeywords: use_vmac [NAME] [MAC], use_vmac_addr, vmac_xmit_base,
// vmac_prefix and vmac_addr_prefix as keepalived 2.2.7 reads them
// (vrrp_parser.c vrrp_vmac_handler, vrrp.c vrrp_complete_instance,
// global_parser.c), with what it reports and corrects.
func TestVMACKeywords(t *testing.T) {
	for _, c := range []struct {
		name   string
		global string
		extra  string
		want   string // UseVMAC|VMACName|VMACAddr|VMACAddrVRID|UseVMACAddr|VMACXmitBase|VMACPrefix|VMACAddrPrefix
		diag   string // a diagnostic's text, "" for none at all
		sev    Severity
	}{
		{"bare", "", "use_vmac", "true|||false|false|false||", "", 0},
		{"name", "", "use_vmac vip51", "true|vip51||false|false|false||", "", 0},
		{"name and MAC", "", "use_vmac vip51 02:11:22:33:44:55", "true|vip51|02:11:22:33:44:55|false|false|false||", "", 0},
		{"MAC first, one-digit octets", "", "use_vmac 2:1:2:3:4:5 vip51", "true|vip51|02:01:02:03:04:05|false|false|false||", "", 0},
		{"five octets: the VRID is the sixth", "", "use_vmac 02:11:22:33:44", "true||02:11:22:33:44:00|true|false|false||", "", 0},
		{"five octets and a colon", "", "use_vmac 02:11:22:33:44:", "true||02:11:22:33:44:00|true|false|false||", "", 0},
		{"RFC 5798's own MAC", "", "use_vmac 00:00:5e:00:01:33", "true|||false|false|false||", "one of RFC 5798's own", SeverityCorrected},
		{"multicast MAC", "", "use_vmac 01:11:22:33:44:55", "true|||false|false|false||", "is multicast", SeverityCorrected},
		{"bad MAC", "", "use_vmac 02:11:22:33", "true|||false|false|false||", "invalid MAC", SeverityCorrected},
		{"two names", "", "use_vmac a b", "true|a||false|false|false||", "already given", SeverityCorrected},
		{"name too long", "", "use_vmac abcdefghijklmnopq", "true|||false|false|false||", "too long", SeverityCorrected},
		{"use_vmac_addr and vmac_xmit_base", "", "use_vmac\n  use_vmac_addr\n  vmac_xmit_base", "true|||false|true|true||", "", 0},
		{"vmac_xmit_base without use_vmac", "", "vmac_xmit_base", "false|||false|false|false||", "only valid with use_vmac", SeverityCorrected},
		{"unicast sets vmac_xmit_base", "", "use_vmac\n  unicast_peer {\n    192.0.2.2\n  }", "true|||false|false|true||", "requires vmac_xmit_base", SeverityCorrected},
		{"strict clears the MAC", "vrrp_strict", "use_vmac 02:11:22:33:44:55", "true|||false|false|false||", "cannot be given in strict mode", SeverityCorrected},
		{"strict clears vmac_xmit_base", "", "strict_mode on\n  use_vmac\n  vmac_xmit_base", "true|||false|false|false||", "incompatible with strict mode", SeverityCorrected},
		{"prefixes", "vmac_prefix vm\n  vmac_addr_prefix va", "use_vmac", "true|||false|false|false|vm|va", "", 0},
		{"a second prefix", "vmac_prefix vm\n  vmac_prefix vx", "use_vmac", "true|||false|false|false|vm|", "already set", SeverityCorrected},
		{"a VIP's use_vmac with the instance's", "", "use_vmac\n  virtual_ipaddress {\n    192.0.2.11/24 use_vmac\n  }", "true|||false|false|false||", "given for VIP 192.0.2.11/24 and for the instance", SeverityWarning},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := "global_defs {\n  " + c.global + "\n}\n" + inst("VI_1", basicInst+"\n  "+c.extra)
			cfg, diags := Parse("k.conf", []byte(conf), LoadOptions{})
			if cfg == nil || len(cfg.Instances) != 1 {
				t.Fatalf("no instance: %s", diags)
			}
			in := cfg.Instances[0]
			got := fmt.Sprintf("%t|%s|%s|%t|%t|%t|%s|%s", in.UseVMAC, in.VMACName, in.VMACAddr, in.VMACAddrVRID, in.UseVMACAddr, in.VMACXmitBase, cfg.Global.VMACPrefix, cfg.Global.VMACAddrPrefix)
			if want := c.want; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			found := false
			for _, d := range diags {
				if c.diag != "" && strings.Contains(d.Message, c.diag) && d.Severity == c.sev {
					found = true
				} else if (strings.Contains(d.Message, "vmac") || strings.Contains(d.Message, "VMAC")) && !strings.Contains(d.Message, " in hactl: ") {
					t.Errorf("unexpected diagnostic: %s", d)
				}
			}
			if c.diag != "" && !found {
				t.Errorf("no %s diagnostic with %q:\n%s", c.sev, c.diag, diags)
			}
		})
	}
}

// TestVMACWithoutInterface: unicast with no interface cannot have a VMAC
// (vrrp_parser.c: "Cannot use VMAC/ipvlan with unicast and no interface
// - clearing use_vmac").
func TestVMACWithoutInterface(t *testing.T) {
	conf := inst("VI_1", `  virtual_router_id 51
  use_vmac
  unicast_src_ip 192.0.2.1
  unicast_peer {
    192.0.2.2
  }
  virtual_ipaddress {
    192.0.2.10/24
  }`)
	cfg, diags := Parse("k.conf", []byte(conf), LoadOptions{})
	if cfg == nil || len(cfg.Instances) != 1 {
		t.Fatalf("no instance: %s", diags)
	}
	if in := cfg.Instances[0]; in.UseVMAC || in.VMACXmitBase {
		t.Errorf("use_vmac %t vmac_xmit_base %t, want both cleared", in.UseVMAC, in.VMACXmitBase)
	}
	found := false
	for _, d := range diags {
		found = found || d.Severity == SeverityCorrected && strings.Contains(d.Message, "use_vmac needs an interface")
	}
	if !found {
		t.Errorf("no correction:\n%s", diags)
	}
}

// TestGARPExtraIf: garp_extra_if / vrrp_garp_extra_if SECS [all] and
// their deprecated names vmac_garp_intvl / vrrp_vmac_garp_intvl
// (vrrp_parser.c vrrp_garp_extra_if_handler, global_parser.c
// vrrp_vmac_garp_extra_if_handler); an instance without its own takes the
// global interval and "all".
func TestGARPExtraIf(t *testing.T) {
	for _, c := range []struct {
		name, global, extra, want, diag string
		sev                             Severity
	}{
		{"none", "", "", "0s false", "", 0},
		{"instance", "", "garp_extra_if 30", "30s false", "", 0},
		{"instance all first", "", "garp_extra_if all 30", "30s true", "", 0},
		{"deprecated name", "", "vmac_garp_intvl 60", "1m0s false", "deprecated (use garp_extra_if)", SeverityWarning},
		{"global, inherited", "vrrp_garp_extra_if 20 all", "", "20s true", "", 0},
		{"global deprecated", "vrrp_vmac_garp_intvl 20", "", "20s false", "deprecated (use vrrp_garp_extra_if)", SeverityWarning},
		{"instance over global", "vrrp_garp_extra_if 20 all", "garp_extra_if 5", "5s false", "", 0},
		{"no time", "", "garp_extra_if all", "0s false", "without a time", SeverityCorrected},
		{"global zero", "vrrp_garp_extra_if 0", "", "0s false", "invalid", SeverityCorrected},
		{"too long", "", "garp_extra_if 86401", "0s false", "invalid", SeverityCorrected},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := "global_defs {\n  " + c.global + "\n}\n" + inst("VI_1", basicInst+"\n  "+c.extra)
			cfg, diags := Parse("k.conf", []byte(conf), LoadOptions{})
			if cfg == nil || len(cfg.Instances) != 1 {
				t.Fatalf("no instance: %s", diags)
			}
			g := cfg.Instances[0].GARP
			if got := sp(g.ExtraIf, g.ExtraIfAll); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
			found := c.diag == ""
			for _, d := range diags {
				if c.diag != "" && d.Severity == c.sev && strings.Contains(d.Message, c.diag) {
					found = true
				} else if strings.Contains(d.Message, "extra_if") || strings.Contains(d.Message, "garp_intvl") {
					t.Errorf("unexpected: %s", d)
				}
			}
			if !found {
				t.Errorf("no %s with %q:\n%s", c.sev, c.diag, diags)
			}
		})
	}
}
