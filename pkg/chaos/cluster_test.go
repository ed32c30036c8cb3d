package chaos

import (
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

// TestRenderIsOneDescription holds every variant's generated
// keepalived.conf to the description it comes from, as hactl's own
// parser reads it (keepalived reads the same text), and the harness's
// lease bound to the lease hactl derives from that text.
func TestRenderIsOneDescription(t *testing.T) {
	for _, tc := range []struct {
		v        Variant
		iv       time.Duration
		version  int
		wantIv   time.Duration
		vmac     bool
		contains string
	}{
		{VariantPlain, 200 * time.Millisecond, 3, 200 * time.Millisecond, false, ""},
		{VariantVMAC, 200 * time.Millisecond, 3, 200 * time.Millisecond, true, "use_vmac"},
		{VariantAH, 200 * time.Millisecond, 2, time.Second, false, "auth_type AH"},
		{VariantAH, 2400 * time.Millisecond, 2, 2 * time.Second, false, "auth_type AH"},
	} {
		t.Run(string(tc.v)+"/"+tc.iv.String(), func(t *testing.T) {
			d := newInstanceDesc(tc.v, tc.iv)
			text := d.render("node2", 120)
			if tc.contains != "" && !strings.Contains(text, tc.contains) {
				t.Errorf("config lacks %q:\n%s", tc.contains, text)
			}
			cfg, diags := config.Parse("chaos.conf", []byte(text), config.LoadOptions{})
			if len(cfg.Instances) != 1 {
				t.Fatalf("%d instances:\n%s\n%s", len(cfg.Instances), diags.String(), text)
			}
			in := cfg.Instances[0]
			if in.Version != tc.version || in.Priority != 120 || in.AdvertInt != tc.wantIv || in.UseVMAC != tc.vmac || in.VRID != 51 {
				t.Errorf("parsed version %d priority %d advert %v use_vmac %v vrid %d; want %d 120 %v %v 51",
					in.Version, in.Priority, in.AdvertInt, in.UseVMAC, in.VRID, tc.version, tc.wantIv, tc.vmac)
			}
			if d.version() != tc.version || d.interval != tc.wantIv {
				t.Errorf("description: version %d interval %v", d.version(), d.interval)
			}
			if len(in.VIPs) != 1 || in.VIPs[0].Prefix != vipPrefix {
				t.Errorf("VIPs %+v, want %v", in.VIPs, vipPrefix)
			}
			if got := leaseOf(d.vrrpVersion(), d.interval, 120); in.VIPLease != got {
				t.Errorf("harness expects lease %v, hactl derives %v", got, in.VIPLease)
			}
		})
	}
}

func TestUnsupportedBy(t *testing.T) {
	for _, tc := range []struct {
		v    Variant
		out  string
		want bool
	}{
		{VariantVMAC, "x.conf:10:5: warning: use_vmac: not implemented in hactl: keepalived creates a macvlan", true},
		{VariantVMAC, "x.conf: valid, 0 errors", false},
		{VariantAH, "x.conf:11:19: auth_type AH is not supported by hactl; use PASS", true},
		{VariantAH, "x.conf:11:19: auth_pass truncated to 8 characters", false},
		// A variant skips only for its own feature.
		{VariantAH, "x.conf:10:5: warning: use_vmac: not implemented in hactl", false},
		{VariantPlain, "x.conf:11:19: auth_type AH is not supported by hactl", false},
	} {
		if _, got := UnsupportedBy(tc.v, tc.out); got != tc.want {
			t.Errorf("UnsupportedBy(%s, %q) = %v, want %v", tc.v, tc.out, got, tc.want)
		}
	}
}

func TestParseVariant(t *testing.T) {
	for _, s := range []string{"", "plain", "vmac", "ah"} {
		if _, err := ParseVariant(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := ParseVariant("AH"); err == nil {
		t.Error("AH accepted; the names are lower case")
	}
}

// TestChosenAndOverlaps covers the rules the checks rest on: who should
// own the VIP with a node down, and which overlaps are keepalived's.
func TestChosenAndOverlaps(t *testing.T) {
	n1, n2, ka := &node{prio: 110}, &node{prio: 120}, &node{prio: 130, keepalived: "/usr/sbin/keepalived"}
	r := &runner{nodes: []*node{n1, n2, ka}, ka: ka}
	if r.chosen() != ka || r.chosenWithout(ka) != n2 {
		t.Error("without a promotion the highest priority alive must be chosen")
	}
	r.promote = n1
	if r.chosen() != n1 || r.chosenWithout(ka) != n1 || r.chosenWithout(n1) != ka {
		t.Error("a promoted node must be chosen while it is up")
	}
	for _, tc := range []struct {
		owners []*node
		ka, ha bool
	}{
		{nil, false, false},
		{[]*node{ka}, false, false},
		{[]*node{n2, ka}, true, false},
		{[]*node{n1, n2}, false, true},
		{[]*node{n1, n2, ka}, true, true},
	} {
		if ka, ha := r.overlaps(tc.owners); ka != tc.ka || ha != tc.ha {
			t.Errorf("overlaps(%d owners) = %v, %v; want %v, %v", len(tc.owners), ka, ha, tc.ka, tc.ha)
		}
	}
}

// TestRenderGuarded holds a guarded node's config to what hactl's parser
// reads: the etcd_guard block and the instance guarded by it.
func TestRenderGuarded(t *testing.T) {
	d := newInstanceDesc(VariantPlain, 200*time.Millisecond)
	d.guardBlock = "etcd_guard G {\n    endpoints http://10.77.0.13:2379 http://10.77.0.14:2379\n    ttl 2\n}\n"
	text := d.render("node1", 110)
	cfg, diags := config.Parse("chaos.conf", []byte(text), config.LoadOptions{})
	if diags.HasErrors() || len(cfg.Instances) != 1 {
		t.Fatalf("%s\n%s", diags, text)
	}
	g := cfg.GuardOf("G")
	if g == nil || len(g.Endpoints) != 2 || g.TTL != 2*time.Second || cfg.Instances[0].Guard != "G" {
		t.Errorf("guard %+v, instance guard %q from:\n%s", g, cfg.Instances[0].Guard, text)
	}
}
