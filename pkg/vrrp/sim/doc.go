// Package sim is a deterministic discrete-event simulator for pkg/vrrp: N
// instances of one virtual router on a simulated segment, a virtual clock,
// and a seeded source of network and host faults (delay, loss,
// duplication, partitions, crashes, restarts, graceful shutdowns, tracker
// changes, promotions).
//
// Everything is driven from one event queue ordered by (time, sequence), and
// all randomness comes from one PCG generator seeded by the caller, so a
// seed replays exactly. Packets go through the real codec: senders encode
// with Advertisement.Append and receivers validate with Expect.Decode.
//
// Invariants are checked after every event (see Sim.check): no instance
// holds VIPs outside Master; once the network has been healthy for
// Master_Down_Interval plus one interval (plus propagation slack) exactly one
// master exists and it is one the election rules choose; a promotion
// handed over on a settled network never leaves a moment without a master.
package sim
