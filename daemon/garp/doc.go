// Package garp announces VIPs on their segment after a takeover, so that
// hosts and switches learn the new master's MAC address at once: a
// gratuitous ARP for each IPv4 VIP (mdlayher/arp) and an unsolicited
// neighbour advertisement, with the override flag, for each IPv6 VIP
// (mdlayher/ndp). When and how often to announce (garp_master_delay,
// garp_master_repeat, garp_master_refresh) is the daemon's schedule; this
// package sends one round per call.
package garp
