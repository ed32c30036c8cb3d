// Package probe measures a VIP handover in a lab: a UDP echo responder on
// every node answers with the node's name, a prober in the operator
// namespace sends one numbered probe per millisecond to the VIP and counts
// the answers (and who gave them), and a sampler reads every node's
// addresses through netlink each millisecond and records which nodes hold
// the VIP. failover's and restart-safe's end-to-end tests use it, and the
// benchmark can.
package probe
