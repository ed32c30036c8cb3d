// Package chaos runs bounded fault injection against a cluster of hactl
// daemons in a network-namespace lab and checks the promises VRRP and
// hactl make after every heal: exactly one node owns the VIP within the
// protocol's bound, it is the node the rules choose, and no VIP outlives
// its lease on a dead or frozen node.
//
// Faults: SIGKILL (and restart), SIGSTOP/SIGCONT, link down/up, VRRP
// dropped by nftables one way or both, graceful daemon restarts, and
// promotions through the control socket. The sequence comes from a seed,
// so a failing run can be replayed.
package chaos
