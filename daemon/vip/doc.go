// Package vip adds, refreshes and removes virtual IP addresses through
// netlink, optionally bound to a kernel lease: each address carries a valid
// and preferred lifetime that the daemon refreshes while it is master, so
// the kernel removes the VIPs of a daemon that was killed or frozen.
//
// Trade-off of leases: a master whose refresh is delayed by more than the
// lease (a stall longer than the lease while still the rightful master)
// loses its VIPs until the next refresh re-adds them. The default lease is
// set a few seconds above Master_Down_Interval, so by the time a lease runs
// out a backup has already taken over; a lease of 0 turns this off and
// leaves VIPs permanent, as keepalived does.
package vip
