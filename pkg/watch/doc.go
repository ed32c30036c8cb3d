// Package watch is the analysis behind `hactl watch`: it turns captured IP
// packets into decoded VRRP advertisements (Decode), keeps one row per
// (interface, family, VRID, source) (Table), and flags what an operator
// would otherwise read out of tcpdump by eye:
//
//   - CONFLICT: two sources advertise one VRID on one segment with different
//     VIP sets, versions, intervals or authentication, the case keepalived
//     logs as "bogus VRRP packet received" and "ip address associated with
//     VRID not present in MASTER advert";
//   - DUAL-MASTER: two sources keep advertising the same VRID and VIP set
//     for longer than one Master_Down_Interval, split brain seen from the
//     wire (a backup never advertises, so two advertisers are two masters);
//   - RESIGN: a priority-0 advertisement, a master stopping;
//   - INVALID: a packet that fails one of pkg/vrrp's validation rules,
//     named by the rule.
//
// It also lists the VRIDs nobody uses (Table.Free), and exposes the pairwise
// comparison (Compare, Mismatch) so the daemon can detect the same
// conflicts against its own configuration.
//
// The analysis performs no I/O and reads no clock: time comes with each
// packet (the capture's timestamp, or the reader's clock for live capture),
// so the same input always gives the same rows and flags.
//
// Live capture is here too, apart: OpenLive (Linux: an AF_PACKET socket
// per interface with a BPF filter for protocol 112; elsewhere it returns
// ErrLiveUnsupported) and Listen, which runs a capture for a while. CheckLive
// is `hactl config check --live`: it listens on the configured interfaces
// and gives each configured instance a verdict (CheckInstance). Capture
// files and terminals are the caller's business (pkg/pcapread, pkg/cli).
package watch
