// Package track is the daemon's trackers: vrrp_script checks,
// track_interface and track_file, and the rule that turns their states into
// an instance's effective priority and fault, as keepalived 2.2.7 does.
//
// The core is deterministic and has no I/O: ScriptState is keepalived's
// rise/fall counter, Effective computes priority, fault and what is failing
// from a base priority and the states of the trackers an instance uses
// (InstanceRefs lists them from the configuration).
//
// A Monitor is the runtime around it: one goroutine per vrrp_script, run
// every interval with its timeout and never twice at once; a poller for
// track_file; a netlink link subscription for interfaces (Linux only).
// Every change of a tracker's state becomes an Event. Events are coalesced
// per tracker and never block a tracker: the Monitor keeps at most one
// pending event per tracker (the latest state, with the state before the
// first undrained change), signals Ready, and the daemon takes them with
// Drain. A change that is undone before the daemon drains is dropped.
package track
