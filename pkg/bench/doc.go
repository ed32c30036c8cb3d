// Package bench measures hactl against keepalived 2.2.7 in one run on one
// machine, in network-namespace labs: failover after a crash (SIGKILL of
// the master) and after a graceful stop (SIGTERM), a planned failover
// under 1 ms probes (hactl failover --to against a restart of the
// master), the time both nodes hold the VIP during a VRRP-only partition
// (issue 19), who-owns against an ssh loop and, on 32 nodes with cheap
// login shells, against the runbook's ssh for all nodes at once (xargs -P),
// the who-owns curve over an in-process SSH fleet of up to 256 nodes, and
// the daemon's CPU time and peak memory with 1 and 100 instances. Every row is a median
// over trials, beside the protocol bound where there is one, and the
// ratio hactl / keepalived. cmd/hactl-bench prints the table and writes
// JSON; `make bench` runs it.
package bench
