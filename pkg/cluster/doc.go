// Package cluster holds the operator logic of hactl's read commands
// (who-owns, status) over a Node interface: what each node holds, which
// daemon runs there and in which VRRP state. It never prints; the CLI
// renders its typed results as tables or encodes them as JSON.
//
// Nodes are reached over SSH (SSHNode, through pkg/remote: one remote
// command for the addresses and keepalived, the control socket for hactl)
// or on this host (LocalNode: netlink and the local socket; Linux only).
// Tests use fake Nodes.
package cluster
