//go:build linux

package bench

import (
	"regexp"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
)

// GuardedName is the daemon name of hactl with the etcd guard in the
// benchmark rows.
const GuardedName = "hactl+guard"

// UnguardedName is plain hactl as the rival of a guarded row.
const UnguardedName = "hactl (no guard)"

// GuardedHactl runs hactl daemon with every instance of its configuration
// guarded by an etcd_guard on Etcd (docs/guard.md), TTL seconds.
type GuardedHactl struct {
	Bin  string
	Etcd *etcdlab.Cluster
	TTL  int
}

// Name is GuardedName.
func (GuardedHactl) Name() string { return GuardedName }

// Start runs hactl daemon on conf with the guard added, and router_id set
// to the host's name: the guard's key holds the node's name (router_id,
// else the host name), and the lab's namespaces share one host name, as
// real nodes do not.
func (d GuardedHactl) Start(h *netlab.Host, conf string) (Running, error) {
	block := "global_defs {\n    router_id " + h.Name + "\n}\n" + d.Etcd.GuardBlock("G", d.TTL)
	return Hactl{Bin: d.Bin}.Start(h, GuardConf(conf, block, "G"))
}

var instanceOpen = regexp.MustCompile(`(?m)^(vrrp_instance \S+ \{)\n`)

// GuardConf is conf (keepalived syntax) with block (an etcd_guard block)
// before it and `guard NAME` in every vrrp_instance.
func GuardConf(conf, block, name string) string {
	return block + instanceOpen.ReplaceAllString(conf, "$1\n    guard "+name+"\n")
}

// Versus is a row of r's trials with daemon a in the hactl column and b as
// the rival, under name and bound (in r's unit): a guarded row beside the
// unguarded one from the same run. Unguarded hactl as the rival is named
// UnguardedName.
func (r *Row) Versus(name, a, b string, bound float64) *Row {
	rival := b
	if b == "hactl" {
		rival = UnguardedName
	}
	v := &Row{Name: name, Unit: r.Unit, Bound: bound, Rival: rival,
		Trials: map[string][]float64{"hactl": r.Trials[a], rival: r.Trials[b]}}
	v.finish()
	return v
}

// Without is r without daemon d's trials (shown in a row of its own).
func (r *Row) Without(d string) *Row {
	delete(r.Trials, d)
	r.finish()
	return r
}
