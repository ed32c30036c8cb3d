// Package cluster holds the operator logic of hactl's read commands
// (who-owns, status) over a Node interface: what each node holds, which
// daemon runs there and in which VRRP state. It never prints; the CLI
// renders its typed results as tables or encodes them as JSON.
//
// Nodes are reached over SSH (SSHNode, through pkg/remote: one remote
// command for the addresses and keepalived, the control socket for hactl)
// or on this host (LocalNode: netlink and the local socket; Linux only).
// Tests use fake Nodes.
//
// The commands that change the cluster (failover, restart-safe) work over
// Members and plan, then act: one look at every node (Observation), a
// pure planner (PlanFailover, PlanRestart) that returns the ordered steps
// with their reasons (Plan), and one executor (exec.go) that runs that
// Plan, stopping at the first failed check with the cluster's state
// (*StoppedError). --dry-run prints the Plan's sentences.
package cluster
