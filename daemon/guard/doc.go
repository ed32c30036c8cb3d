// Package guard is the etcd guard of issue 19: the arbiter that keeps a
// VRRP partition from giving a VIP two owners.
//
// VRRP still elects. A master may hold its VIPs only while it holds the
// guard's key for its virtual router (Key), attached to its own etcd lease,
// and only until that lease, as this node last saw it renewed, could have
// expired in etcd, less a margin for the clock rate (State.Deadline). The
// decision is pure (State, on a caller's clock); the etcd edge is Guard,
// built on etcd's official client (go.etcd.io/etcd/client/v3): one lease
// per guard, renewed by the guard itself so that "renewed at" is the time
// the renewal was sent, a transaction per acquisition, a delete for a
// graceful handover and a revoke on Close.
package guard
