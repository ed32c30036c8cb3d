// Package chaos runs bounded fault injection against a cluster in a
// network-namespace lab and checks the promises VRRP and hactl make
// after every heal: exactly one node owns the VIP within the protocol's
// bound, it is the node the rules choose, and no hactl VIP outlives its
// lease on a dead or frozen node.
//
// Faults: SIGKILL (and restart), SIGSTOP/SIGCONT, link down/up, VRRP
// (and AH) dropped by nftables one way or both, graceful daemon restarts,
// and promotions through the control socket. The sequence comes from a
// seed, so a failing run can be replayed.
//
// # Mixed clusters
//
// With Config.Keepalived set, one node (by default the one of highest
// priority, so the usual master) runs keepalived 2.2.7 instead of hactl,
// in the same VRID with the same VIP: every node's keepalived.conf, the
// one hactl reads and the one keepalived reads, is rendered from one
// description (cluster.go), in one of three variants: plain VRRPv3,
// use_vmac on every node (the VIP on keepalived's vrrp.VRID macvlan), or
// VRRPv2 with auth_type AH on every node (adverts every whole second).
// The keepalived node gets the same faults (SIGKILL, SIGSTOP and SIGCONT
// of both its processes through the process group, SIGTERM and start,
// link down/up, VRRP dropped); promotions go to hactl nodes only.
//
// keepalived's known differences are accounted for explicitly, as
// keepalived-known events in the report (mixed.go), never by loosening
// the checks on hactl nodes: a SIGKILLed or frozen keepalived master
// keeps its VIP (no lease), so the stale or frozen VIP is expected, an
// hactl node must still take over within the bound beside it, and
// keepalived's restart removes the stale VIP (counted; one left in the
// way fails the ordinary check after the heal); after a heal, an
// overlap of the keepalived node with another owner is bounded by one
// advert interval plus slack (kaOverlapBound), separately from hactl's
// bound.
//
// # Guarded clusters
//
// With Config.Guard set, every node's instance is guarded by an
// etcd_guard on a real etcd cluster in the lab (docs/guard.md), the
// guard's own faults join the others (VRRP-only partition, master cut
// from etcd, every node cut from etcd, etcd member and leader SIGKILLed),
// and every node's addresses are sampled every 5 ms throughout: a single
// sample with two owners is a violation (guard.go).
package chaos
