// Package netlab builds labs of hosts in Linux network namespaces for
// end-to-end tests, benchmarks and `hactl lab`.
//
// A lab called NAME has a bridge namespace (hactl-NAME-br) holding br0, an
// operator namespace (hactl-NAME-op) and N node namespaces
// (hactl-NAME-node1...). Each host has one veth port, eth0, on the bridge,
// with an IPv4 address in one /24 and an IPv6 address in one /64. Nothing is
// created in the caller's namespace: veth pairs are made inside the bridge
// namespace with their peer placed straight into the host's namespace.
//
// Every name a lab uses carries its prefix, and its files live under one
// directory (DefaultRoot/NAME) with one subdirectory per host, since the
// hosts share the filesystem. lab.json there records the lab and the PID of
// the process that owns it, so Cleanup can find and remove labs left by a
// crashed run without touching labs still in use.
//
// Linux only; elsewhere every entry point returns ErrUnsupported.
package netlab
