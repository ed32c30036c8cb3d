package cluster

import (
	"context"
	"net/netip"
)

// StatusResult is the answer of Status.
type StatusResult struct {
	// Nodes are the answers, in the order the nodes were given.
	Nodes []NodeStatus `json:"nodes"`
	// Unreachable are the nodes that could not be asked.
	Unreachable []string `json:"unreachable"`
	// Errors are the nodes' errors, each naming its node.
	Errors []error `json:"-"`
}

// NodeStatus is one node's daemon and instances.
type NodeStatus struct {
	Node      string `json:"node"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// Daemon is nil when the node could not be asked.
	Daemon *Daemon `json:"daemon,omitempty"`
	// Interfaces are the node's interfaces and addresses.
	Interfaces []Interface `json:"interfaces,omitempty"`
}

// StatusOptions select what Status reports.
type StatusOptions struct {
	Options
	// Instance, when set, keeps only the instance of that name.
	Instance string
}

// Status asks every node for its daemon and instances, with the VIPs each
// instance holds now (from the node's addresses, whatever the daemon
// believes). For keepalived nodes whose state cannot be read, one instance
// per VIP group cannot be known: the daemon is listed without instances
// and a note says why.
func Status(ctx context.Context, nodes []Node, opt StatusOptions) *StatusResult {
	res := &StatusResult{Nodes: make([]NodeStatus, len(nodes)), Unreachable: []string{}}
	for i, p := range askAll(ctx, nodes, opt.Options) {
		ns := NodeStatus{Node: nodes[i].Name()}
		if p.err != nil {
			ns.Error = p.err.Error()
			res.Errors = append(res.Errors, p.err)
			res.Unreachable = append(res.Unreachable, ns.Node)
			res.Nodes[i] = ns
			continue
		}
		ns.Reachable, ns.Daemon, ns.Interfaces = true, p.daemon, p.ifs
		if ns.Daemon == nil {
			ns.Daemon = &Daemon{Kind: DaemonNone}
		}
		kept := []Instance{}
		for _, in := range ns.Daemon.Instances {
			if opt.Instance != "" && in.Name != opt.Instance {
				continue
			}
			in.Held = []netip.Addr{}
			for _, v := range in.VIPs {
				if len(holds(p.ifs, v.Addr())) > 0 {
					in.Held = append(in.Held, v.Addr())
				}
			}
			kept = append(kept, in)
		}
		ns.Daemon.Instances = kept
		res.Nodes[i] = ns
	}
	return res
}
