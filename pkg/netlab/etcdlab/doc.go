// Package etcdlab runs a real etcd cluster (Debian's etcd-server, 3.4) in a
// lab's namespaces for the tests of the etcd guard: one member per host,
// each with its own data directory, started and torn down by the test.
//
// Faults are real: a member or the leader is killed with SIGKILL and started
// again on its data, a host is cut from the cluster's client port with
// nftables in its own namespace, a member is cut from its peers the same
// way. Nothing runs in the caller's namespace; a client in the test process
// reaches the cluster through a socket opened inside a lab host
// (Dialer). Linux only, as the labs are.
package etcdlab
