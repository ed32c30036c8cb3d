package chaos

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Variant is the VRRP flavour a run's cluster speaks. A mixed cluster
// runs it on hactl and keepalived alike.
type Variant string

// The variants: plain multicast VRRPv3; VRRPv3 with use_vmac on every
// node (the VIP on a macvlan with the virtual router MAC); VRRPv2 with
// auth_type AH on every node (AH is VRRPv2 only, whose advert interval is
// whole seconds).
const (
	VariantPlain Variant = "plain"
	VariantVMAC  Variant = "vmac"
	VariantAH    Variant = "ah"
)

// Variants lists them in the order the docs and the CLI name them.
var Variants = []Variant{VariantPlain, VariantVMAC, VariantAH}

// ParseVariant reads a variant name; empty is plain.
func ParseVariant(s string) (Variant, error) {
	if s == "" {
		return VariantPlain, nil
	}
	for _, v := range Variants {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown chaos variant %q (want plain, vmac or ah)", s)
}

// instanceDesc is the one description of the cluster's VRRP instance;
// every node's configuration, hactl's and keepalived's, is rendered from
// it, so the two sides cannot drift apart.
type instanceDesc struct {
	variant  Variant
	vrid     int
	interval time.Duration
	vip      netip.Prefix
	// guardBlock, when set, is an etcd_guard block (named guardName) put
	// before the instance, which it guards (hactl only).
	guardBlock string
}

// authPass is the AH variant's key (keepalived uses the first 8 bytes).
const authPass = "chaos-ah"

func newInstanceDesc(v Variant, interval time.Duration) instanceDesc {
	d := instanceDesc{variant: v, vrid: 51, interval: interval, vip: vipPrefix}
	if v == VariantAH {
		// VRRPv2 advertises whole seconds; keepalived rounds anything else.
		d.interval = max(time.Second, interval.Round(time.Second))
	}
	return d
}

// version is the VRRP version on the wire.
func (d instanceDesc) version() int {
	if d.variant == VariantAH {
		return 2
	}
	return 3
}

func (d instanceDesc) vrrpVersion() vrrp.Version {
	if d.version() == 2 {
		return vrrp.Version2
	}
	return vrrp.Version3
}

// render is the keepalived.conf text of one node at priority prio; hactl
// daemon reads the same text.
func (d instanceDesc) render(router string, prio int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n    router_id %s\n}\n", router)
	b.WriteString(d.guardBlock)
	b.WriteString("vrrp_instance VI_1 {\n    interface eth0\n")
	if d.guardBlock != "" {
		b.WriteString("    guard " + guardName + "\n")
	}
	fmt.Fprintf(&b, "    virtual_router_id %d\n    version %d\n    priority %d\n    advert_int %g\n",
		d.vrid, d.version(), prio, d.interval.Seconds())
	switch d.variant {
	case VariantVMAC:
		b.WriteString("    use_vmac\n")
	case VariantAH:
		fmt.Fprintf(&b, "    authentication {\n        auth_type AH\n        auth_pass %s\n    }\n", authPass)
	}
	fmt.Fprintf(&b, "    virtual_ipaddress {\n        %s\n    }\n}\n", d.vip)
	return b.String()
}

// unsupported names the words of `hactl config check` that mean the
// hactl binary does not implement the variant yet (use_vmac or AH
// landing on other branches); a variant run skips for exactly these.
func (d instanceDesc) unsupported() []string {
	switch d.variant {
	case VariantVMAC:
		return []string{"use_vmac: not implemented"}
	case VariantAH:
		return []string{"auth_type AH is not supported"}
	}
	return nil
}

// UnsupportedBy reports whether a `hactl config check` output on a
// variant's generated config says that hactl lacks the variant's
// feature, and the line that says so.
func UnsupportedBy(v Variant, checkOutput string) (string, bool) {
	d := newInstanceDesc(v, 0)
	for _, line := range strings.Split(checkOutput, "\n") {
		for _, w := range d.unsupported() {
			if strings.Contains(line, w) {
				return strings.TrimSpace(line), true
			}
		}
	}
	return "", false
}

// SampleConfig is the configuration a variant's node at priority prio
// runs (for `hactl config check` before a run).
func SampleConfig(v Variant, interval time.Duration, prio int) string {
	return newInstanceDesc(v, interval).render("node1", prio)
}
