// Package vrrp is the protocol core of hactl: a codec for VRRPv2 (RFC 3768)
// and VRRPv3 (RFC 5798) advertisements, and a pure per-instance state
// machine.
//
// Nothing here performs I/O, starts goroutines or reads the clock. Bytes and
// events go in; decoded values and actions come out; time is supplied by the
// caller as a time.Duration since an arbitrary epoch. That is what lets the
// simulator in pkg/vrrp/sim drive thousands of seeded runs deterministically,
// and what lets the daemon own every side effect.
//
// # Codec
//
// Advertisement is the one wire message. Advertisement.Append encodes it;
// Decode parses a raw VRRP payload given a PacketContext (the IP-level facts a
// raw socket reports: source, destination, TTL/hop limit), and DecodeIP
// parses a whole IPv4 or IPv6 packet, as found in captures. Decoding into a
// caller-owned Advertisement allocates nothing: addresses are kept in a fixed
// buffer inside the value.
//
// Every rejection is a *ValidationError whose Reason is also usable directly
// as a sentinel with errors.Is (ErrTTL, ErrChecksum, ...); Reason.Name gives
// the short rule name ("ttl", "checksum", ...) for metrics and UIs.
//
// Decisions where RFC and keepalived differ, or the RFC is silent:
//
//   - TTL/hop limit 255 is enforced for multicast destinations always, and for
//     unicast only when Expect.CheckUnicastTTL is set. keepalived 2.2.7 sends
//     IPv6 unicast adverts with hop limit 64 (see testdata/golden), and itself
//     skips the check for unicast, so enforcing it by default would reject
//     keepalived peers.
//   - VRRPv3 over IPv4 is checksummed with the pseudo-header (RFC 5798 §5.2.8).
//     keepalived 2.2.7 does the same for multicast and unicast (verified by the
//     golden captures), so the pre-1.3.6 keepalived unicast variant that put
//     the multicast group in the pseudo-header is not accepted.
//   - A zero advertisement interval is rejected ("interval"): it would make a
//     backup's Master_Down_Interval collapse to its skew time.
//   - Trailing bytes after the last field are rejected ("length"), as
//     keepalived does.
//   - VRRPv2 IPsec AH authentication (type 2) is deprecated by RFC 3768 but
//     spoken as keepalived 2.2.7 speaks it (ah.go): AHAuth builds and
//     verifies the IPv4 header, AH header and HMAC-MD5-96 ICV byte for byte
//     as keepalived does (golden vectors in testdata/golden-ah), and
//     AHCounter keeps keepalived's shared sequence counter and replay rule.
//     Decode accepts auth type 2 in the VRRP message; only Expect.Check
//     against an AH instance, after AHAuth.Verify, makes it valid.
//
// # State machine
//
// Instance implements RFC 5798 §6.4 for one virtual router (VRID, interface,
// family), with the keepalived behaviours listed in machine.go. Step takes
// one Event and returns the Actions the caller must perform in order. Timers
// are values: an ArmTimer action names a timer kind, a deadline and a
// generation; the caller feeds the expiry back as an Event, and an expiry
// whose generation is not current is ignored, so the caller never has to
// cancel anything reliably.
package vrrp
