// Package metrics exports the daemon's state and counters to Prometheus,
// on the control socket (GET /metrics) and, with --metrics-listen, on a
// TCP listener. docs/metrics.md lists every metric and maps it to
// keepalived-exporter's.
//
// The design is half pull, half push, to touch the daemon's loop as little
// as possible:
//
//   - Pulled at scrape time: everything the control API already knows
//     (state, priorities, adverts sent and received, VIPs held, trackers,
//     last transition time, drops by reason, reload status). Collect calls
//     Options.Status, which the daemon answers on its loop, exactly as it
//     answers GET /v1/status; so the numbers are one consistent snapshot
//     and nothing in the loop keeps a second copy of them.
//   - Pushed by the daemon as events happen: what the API does not count
//     (transitions by target state, releases of mastership, VIP lease
//     renewals, drops by reason per instance, script runs with their
//     outcome and duration). The methods are cheap (a mutex and a map
//     increment), safe for concurrent use, and do nothing on a nil
//     *Metrics, so the daemon calls them without checking whether metrics
//     are on.
//
// Pushed per-instance counters are joined to the snapshot's instances by
// name when scraped, so every series carries the same identity labels
// (vrrp_instance, interface, vrid, family) and is exported from zero for
// every instance, target state and drop reason: alerts on increase() see
// the first event too.
//
// Each Metrics has its own prometheus.Registry (no global state) with the
// Go and process collectors beside hactl's.
package metrics
