package cluster

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/hactl/hactl/pkg/api"
)

// Verdict is WhoOwns' answer in one word (the JSON's "verdict"; the CLI
// maps each to its exit code).
type Verdict string

// Verdicts of WhoOwns, from best to worst but for split brain, which
// outranks a node that could not be asked.
const (
	VerdictOneOwner   Verdict = "one_owner"   // exactly one holder, every node answered
	VerdictNoOwner    Verdict = "no_owner"    // nobody holds it, every node answered
	VerdictSplitBrain Verdict = "split_brain" // more than one holder
	VerdictIncomplete Verdict = "incomplete"  // some node could not be asked, at most one holder seen
)

// WhoOwnsResult is the answer of WhoOwns.
type WhoOwnsResult struct {
	// Addrs are the addresses asked about (a hostname's A and AAAA).
	Addrs []netip.Addr `json:"addresses"`
	// Verdict is one_owner, no_owner, split_brain or incomplete.
	Verdict Verdict `json:"verdict"`
	// Owners name the holders: nodes, and with ARP, "MAC aa:bb:..." for an
	// answer from a host that is none of the nodes.
	Owners []string `json:"owners"`
	// Unreachable are the nodes that could not be asked.
	Unreachable []string `json:"unreachable"`
	// Nodes are the answers, in the order the nodes were given.
	Nodes []NodeOwnership `json:"nodes"`
	// ARP is the segment's answer, with --arp.
	ARP *ARPResult `json:"arp,omitempty"`
	// Guard is the instances' etcd guard key and its holder as etcd
	// reports it to the nodes (docs/guard.md); absent when unguarded.
	Guard *GuardOwnership `json:"guard,omitempty"`
	// WithoutKey name the nodes that hold the address while their
	// guarded instance does not hold its key: a split brain even with
	// one holder (the guard's promise is broken there).
	WithoutKey []string `json:"without_key,omitempty"`
	// Errors are the nodes' errors, each naming its node.
	Errors []error `json:"-"`
}

// GuardOwnership is the guard's view of the address's virtual router.
type GuardOwnership struct {
	Guard string `json:"guard"`
	Key   string `json:"key"`
	// Holder is the key's holder ("" nobody): the node that says it
	// holds it, else what the other nodes last heard from etcd.
	Holder string `json:"holder"`
}

// NodeOwnership is one node's answer.
type NodeOwnership struct {
	Node      string `json:"node"`
	Reachable bool   `json:"reachable"`
	// Error is why the node could not be asked.
	Error string `json:"error,omitempty"`
	// Holds: one of the addresses is configured on one of its interfaces.
	Holds bool   `json:"holds"`
	Held  []Held `json:"held"`
	// Daemon is hactl, keepalived or none ("" when unreachable).
	Daemon        string `json:"daemon,omitempty"`
	DaemonVersion string `json:"daemon_version,omitempty"`
	// Instance is the instance that has the address among its VIPs.
	Instance string `json:"instance,omitempty"`
	// State is that instance's VRRP state.
	State         api.State `json:"state,omitempty"`
	StateInferred bool      `json:"state_inferred,omitempty"`
	// Lingering: the node holds the address but its instance is not
	// MASTER (a VIP left behind, or added by hand).
	Lingering bool `json:"lingering,omitempty"`
	// ByARP: the node was found holding the address only by ARP.
	ByARP bool `json:"by_arp,omitempty"`
	// Guard is the instance's etcd guard and key as the node sees them
	// (hactl only, guarded instances).
	Guard *api.InstanceGuard `json:"guard,omitempty"`
	// WithoutKey: the node holds the address while its guarded instance
	// does not hold the key (split brain).
	WithoutKey bool `json:"without_key,omitempty"`
	// Note explains anything odd about the answer.
	Note string `json:"note,omitempty"`

	macs []string
}

// WhoOwns asks every node whether it holds one of addrs: exact address
// match on any interface, any prefix length, IPv4 and IPv6, with the VRRP
// state of the instance that has the address among its VIPs.
func WhoOwns(ctx context.Context, nodes []Node, addrs []netip.Addr, opt Options) *WhoOwnsResult {
	res := &WhoOwnsResult{Addrs: addrs, Owners: []string{}, Unreachable: []string{}, Nodes: make([]NodeOwnership, len(nodes))}
	for i, p := range askAll(ctx, nodes, opt) {
		no := NodeOwnership{Node: nodes[i].Name(), Held: []Held{}}
		if p.err != nil {
			no.Error = p.err.Error()
			res.Errors = append(res.Errors, p.err)
			res.Nodes[i] = no
			continue
		}
		no.Reachable = true
		for _, ifc := range p.ifs {
			if ifc.MAC != "" {
				no.macs = append(no.macs, strings.ToLower(ifc.MAC))
			}
		}
		for _, a := range addrs {
			no.Held = append(no.Held, holds(p.ifs, a)...)
		}
		no.Holds = len(no.Held) > 0
		describeDaemon(&no, p.daemon, addrs)
		res.Nodes[i] = no
	}
	res.decide()
	return res
}

// describeDaemon fills in the node's daemon, instance and state.
func describeDaemon(no *NodeOwnership, d *Daemon, addrs []netip.Addr) {
	if d == nil {
		return
	}
	no.Daemon, no.DaemonVersion = d.Kind, d.Version
	var in *Instance
	for i := range d.Instances {
		for _, a := range addrs {
			if d.Instances[i].configures(a) {
				in = &d.Instances[i]
				break
			}
		}
		if in != nil {
			break
		}
	}
	switch {
	case in != nil:
		no.Instance, no.State, no.Guard = in.Name, in.State, in.Guard
		if no.Holds && in.Guard != nil && !in.Guard.Held {
			no.WithoutKey = true
			no.Note = "holds the VIP without the guard key (" + in.Guard.Key + " held by " + holderName(in.Guard.Holder) + ")"
		} else if no.Holds && in.State != api.StateMaster {
			no.Lingering = true
			no.Note = "holds the VIP but its instance is " + string(in.State) + " (a lingering VIP, or one added by hand)"
		} else if !no.Holds && in.State == api.StateMaster && in.Guard != nil && !in.Guard.Held {
			no.Note = "MASTER (no key): " + in.Guard.Key + " held by " + holderName(in.Guard.Holder) + ", so no VIP"
		} else if !no.Holds && in.State == api.StateMaster {
			no.Note = "MASTER but does not hold the VIP"
		}
	case d.Kind == DaemonKeepalived && d.StateSource == SourceInferred:
		no.State, no.StateInferred = api.StateBackup, true
		if no.Holds {
			no.State = api.StateMaster
		}
		no.Note = d.Note
	case no.Holds && d.Kind != DaemonNone:
		no.Lingering = true
		no.Note = "holds the address, which is a VIP of no instance of its " + d.Kind + " daemon (added by hand?)"
	case no.Holds:
		no.Note = "holds the address, and runs no VRRP daemon (added by hand?)"
	}
	if d.Note != "" && no.Note == "" {
		no.Note = d.Note
	}
}

// holderName is a key's holder for a note.
func holderName(h string) string {
	if h == "" {
		return "nobody"
	}
	return h
}

// decide computes owners, unreachable nodes and the verdict.
func (r *WhoOwnsResult) decide() {
	r.Owners, r.Unreachable, r.WithoutKey, r.Guard = []string{}, []string{}, []string{}, nil
	for _, n := range r.Nodes {
		if n.Holds {
			r.Owners = append(r.Owners, n.Node)
		}
		if !n.Reachable {
			r.Unreachable = append(r.Unreachable, n.Node)
		}
		if n.WithoutKey {
			r.WithoutKey = append(r.WithoutKey, n.Node)
		}
		if g := n.Guard; g != nil {
			switch {
			case r.Guard == nil:
				r.Guard = &GuardOwnership{Guard: g.Guard, Key: g.Key, Holder: g.Holder}
			case g.Held:
				r.Guard.Holder = n.Node
			case r.Guard.Holder == "":
				r.Guard.Holder = g.Holder
			}
			if g.Held {
				r.Guard.Holder = n.Node
			}
		}
	}
	if r.ARP != nil {
		for _, rep := range r.ARP.Replies {
			if rep.Node == "" && !r.anyHolds(rep.SharedBy) {
				r.Owners = append(r.Owners, "MAC "+rep.MAC)
			}
		}
	}
	switch {
	case len(r.Owners) > 1 || len(r.WithoutKey) > 0:
		r.Verdict = VerdictSplitBrain
	case len(r.Unreachable) > 0:
		r.Verdict = VerdictIncomplete
	case len(r.Owners) == 1:
		r.Verdict = VerdictOneOwner
	default:
		r.Verdict = VerdictNoOwner
	}
}

// anyHolds: one of the named nodes holds the address.
func (r *WhoOwnsResult) anyHolds(names []string) bool {
	for _, n := range r.Nodes {
		if n.Holds && slices.Contains(names, n.Node) {
			return true
		}
	}
	return false
}

// asked names the question in a note: "ARP" or "neighbour solicitation".
func (a *ARPResult) asked() string {
	if a.Protocol == ProtoNDP {
		return "neighbour solicitation"
	}
	return "ARP"
}

// The protocols of ARPResult.Protocol.
const (
	ProtoARP = "arp" // IPv4: ARP request and reply
	ProtoNDP = "ndp" // IPv6: neighbour solicitation and advertisement
)

// ARPResult is what the segment answered to an ARP request (IPv4) or a
// neighbour solicitation (IPv6) for the VIP.
type ARPResult struct {
	// Protocol is ProtoARP or ProtoNDP.
	Protocol  string     `json:"protocol"`
	Interface string     `json:"interface"`
	Address   netip.Addr `json:"address"`
	Replies   []ARPReply `json:"replies"`
	// Error is why the segment could not be asked.
	Error string `json:"error,omitempty"`
}

// ARPReply is one MAC address that answered for the VIP, and the node it
// belongs to ("" when it matches none, or more than one).
type ARPReply struct {
	MAC  string `json:"mac"`
	Node string `json:"node,omitempty"`
	// SharedBy names the nodes that all have this MAC: a VRRP virtual MAC
	// (use_vmac, 00:00:5e:00:01:VRID or 00:00:5e:00:02:VRID) exists on
	// every node of the instance, so the answer cannot tell them apart.
	// It is then no owner of its own when one of them holds the VIP: the
	// owner is the node that says it holds it.
	SharedBy []string `json:"shared_by,omitempty"`
}

// ARPAnswer is what an ARP probe heard: for each address asked, the MAC
// addresses that answered.
type ARPAnswer struct {
	Interface string
	// Protocol is ProtoARP (the default when empty) or ProtoNDP.
	Protocol string
	Replies  map[netip.Addr][]string
}

// AddARP merges an ARP probe into the result. vip is the address the probe
// asked for; hosts maps node names to the addresses the probe also asked
// for (the nodes' own, so that a node whose SSH is down is still
// recognised by its MAC). A MAC that answers for the VIP makes its node an
// owner even when SSH could not ask it, so a split brain shows where SSH
// is down; a MAC of no node is an owner of its own.
func (r *WhoOwnsResult) AddARP(vip netip.Addr, ans *ARPAnswer, hosts map[string]netip.Addr, probeErr error) {
	ar := &ARPResult{Protocol: ProtoARP, Address: vip, Replies: []ARPReply{}}
	r.ARP = ar
	if probeErr != nil {
		ar.Error = probeErr.Error()
		return
	}
	ar.Interface = ans.Interface
	if ans.Protocol != "" {
		ar.Protocol = ans.Protocol
	}
	macNodes := map[string][]string{}
	for _, n := range r.Nodes {
		for _, m := range n.macs {
			if !slices.Contains(macNodes[m], n.Node) {
				macNodes[m] = append(macNodes[m], n.Node)
			}
		}
	}
	for name, a := range hosts {
		for _, m := range ans.Replies[a] {
			if _, ok := macNodes[strings.ToLower(m)]; !ok {
				macNodes[strings.ToLower(m)] = []string{name}
			}
		}
	}
	for _, m := range ans.Replies[vip] {
		m = strings.ToLower(m)
		rep := ARPReply{MAC: m}
		switch ns := macNodes[m]; {
		case len(ns) == 1:
			rep.Node = ns[0]
		case len(ns) > 1:
			rep.SharedBy = slices.Sorted(slices.Values(ns))
		}
		ar.Replies = append(ar.Replies, rep)
		for i := range r.Nodes {
			if n := &r.Nodes[i]; n.Node == rep.Node && !n.Holds {
				n.Holds, n.ByARP = true, true
				if n.Note == "" {
					n.Note = "answers " + ar.asked() + " for the VIP (" + m + ")"
				}
			}
		}
	}
	slices.SortFunc(ar.Replies, func(a, b ARPReply) int { return strings.Compare(a.MAC, b.MAC) })
	r.decide()
}
