// Package flood sends hostile VRRP traffic at a bounded rate for a bounded
// time, for the attack tests and benchmarks: adverts of a VRID with other
// VIPs from a random source address per packet, the same with a wrong
// password, or adverts with a broken checksum from one source (and, with
// Conns, idle connections to a unix socket). It writes
// whole IPv4 packets through a raw socket with IP_HDRINCL, so that the
// source can be any address, in batches (sendmmsg) every 5 ms, so that
// 10,000 packets a second are within reach of a loaded two-core test
// machine (the attack tests reach 9,995).
//
// It is a test tool: open it inside a lab host's network namespace
// (netlab.Host.Do), never in the root namespace. IPv4 only.
package flood
