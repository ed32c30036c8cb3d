// Package track is the daemon's trackers: vrrp_script checks,
// track_interface (and the interfaces of VIPs and routes), track_file and
// vrrp_track_process, and the rule that turns their states into an
// instance's effective priority and fault, as keepalived 2.2.7 does.
//
// The core is deterministic and has no I/O: ScriptState is keepalived's
// rise/fall counter, Effective computes priority, fault and what is failing
// from a base priority and the states of the trackers an instance uses
// (InstanceRefs lists them from the configuration, AddressInterfaces the
// interfaces of addresses and routes). ProcessSet counts the processes of
// vrrp_track_process blocks from process lists and events, with quorum
// and delays, and MatchProcess is keepalived's process comparison.
//
// A Monitor is the runtime around it: one goroutine per vrrp_script, run
// every interval with its timeout and never twice at once; a poller for
// track_file; a netlink link subscription for interfaces, with
// interface_up_down_delays (Linux only); the kernel's process events, or
// /proc scanning where they do not answer, for processes (Linux only).
// Every change of a tracker's state becomes an Event. Events are coalesced
// per tracker and never block a tracker: the Monitor keeps at most one
// pending event per tracker (the latest state, with the state before the
// first undrained change), signals Ready, and the daemon takes them with
// Drain. A change that is undone before the daemon drains is dropped.
package track
