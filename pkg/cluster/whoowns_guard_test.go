package cluster

import (
	"net/netip"
	"testing"

	"github.com/hactl/hactl/pkg/api"
)

// TestWhoOwnsGuard: a node holding the VIP without its guard key is a
// split brain even as the only holder; a MASTER without the key that
// holds nothing is not; the key's holder is the node that holds it.
func TestWhoOwnsGuard(t *testing.T) {
	vip := netip.MustParseAddr("10.77.0.100")
	inst := func(state api.State, held bool, holder string) *Daemon {
		return &Daemon{Kind: DaemonHactl, Instances: []Instance{{Name: "VI_1", State: state, VIPs: []netip.Prefix{netip.PrefixFrom(vip, 24)},
			Guard: &api.InstanceGuard{Guard: "G", Key: "/hactl/ipv4/51", Held: held, Holder: holder, NoKey: state == api.StateMaster && !held}}}}
	}
	node := func(name string, holds bool, d *Daemon) NodeOwnership {
		no := NodeOwnership{Node: name, Reachable: true, Holds: holds}
		describeDaemon(&no, d, []netip.Addr{vip})
		return no
	}
	for _, c := range []struct {
		name        string
		nodes       []NodeOwnership
		verdict     Verdict
		holder      string
		withoutKeys int
	}{
		{"one owner with the key; the other master without it (VRRP partition)", []NodeOwnership{
			node("a", true, inst(api.StateMaster, true, "a")), node("b", false, inst(api.StateMaster, false, "a"))}, VerdictOneOwner, "a", 0},
		{"the only holder has no key", []NodeOwnership{
			node("a", false, inst(api.StateBackup, false, "b")), node("b", true, inst(api.StateMaster, false, ""))}, VerdictSplitBrain, "b", 1},
		{"nobody (etcd down)", []NodeOwnership{
			node("a", false, inst(api.StateFault, false, "")), node("b", false, inst(api.StateFault, false, ""))}, VerdictNoOwner, "", 0},
	} {
		r := &WhoOwnsResult{Addrs: []netip.Addr{vip}, Nodes: c.nodes}
		r.decide()
		if r.Verdict != c.verdict || r.Guard == nil || r.Guard.Holder != c.holder || len(r.WithoutKey) != c.withoutKeys {
			t.Errorf("%s: verdict %s, guard %+v, without key %v; want %s, holder %q, %d", c.name, r.Verdict, r.Guard, r.WithoutKey, c.verdict, c.holder, c.withoutKeys)
		}
	}
	// Unguarded: nothing guard-shaped in the answer.
	r := &WhoOwnsResult{Addrs: []netip.Addr{vip}, Nodes: []NodeOwnership{{Node: "a", Reachable: true, Holds: true}}}
	r.decide()
	if r.Guard != nil || len(r.WithoutKey) != 0 || r.Verdict != VerdictOneOwner {
		t.Errorf("unguarded: %+v", r)
	}
}
