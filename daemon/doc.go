// Package daemon is hactl's VRRP runtime. It drives the pure protocol core
// (pkg/vrrp) with packets, timers, tracker results and operator commands,
// and performs the actions it returns: adverts on the raw sockets
// (daemon/vrrpsock), VIPs through netlink with kernel leases (daemon/vip),
// gratuitous ARP and NA (daemon/garp), the state file (daemon/statefile)
// and the control socket (daemon/control).
//
// One goroutine, the loop, owns every instance; socket readers, timers and
// the control server only post events to it. So the state machines are
// never entered concurrently, and nothing the loop waits for can block it
// for long: scripts run elsewhere and report back.
package daemon
