// Package daemon is hactl's VRRP runtime: raw sockets, VIPs through
// netlink, gratuitous ARP and unsolicited neighbour advertisements,
// trackers, notify scripts, the state file and the control socket. It
// drives the pure protocol core in pkg/vrrp and performs the actions it
// returns. (The runtime lands with its own issue; `hactl daemon` says
// "not implemented yet" until then.)
package daemon
