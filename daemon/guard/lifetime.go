package guard

import "time"

// KernelLag is how late the kernel may remove an address after its valid
// lifetime: its lifetime check runs on a rounded timer. Measured here at
// 13-82 ms for 1 s and 2 s lifetimes, and 260 ms for a 3 s one (the lab
// notes); 300 ms covers both.
const KernelLag = 300 * time.Millisecond

// VIPLifetime is the kernel lifetime a guarded VIP may be given (added or
// refreshed) at now so that the kernel removes it before the deadline
// until even if the daemon dies right after: whole seconds (the kernel's
// unit) rounded down, after KernelLag. Zero means the deadline is too
// close for even one second: do not extend the VIP's lifetime (it already
// ends before the deadline) and remove it at until.
func VIPLifetime(now, until time.Time) time.Duration {
	d := until.Sub(now) - KernelLag
	if d < time.Second {
		return 0
	}
	return d.Truncate(time.Second)
}

// RefreshSlack is how late a timer may fire at LastRefreshAt and still
// give the VIPs a whole second.
const RefreshSlack = 50 * time.Millisecond

// LastRefreshAt is when a held VIP's last refresh before the deadline
// until should come: the latest time at which VIPLifetime still gives a
// whole second, less RefreshSlack. A refresh then makes the kernel keep
// the VIP until RefreshSlack before until less KernelLag, where the
// refresh at the last renewal only keeps it for whole seconds from then
// (at ttl 2, 1 s after the renewal against about 1.43 s).
func LastRefreshAt(until time.Time) time.Time {
	return until.Add(-KernelLag - time.Second - RefreshSlack)
}

// Lifetime bounds an instance's usual VIP lease by the guard: the smaller
// of lease (0: no lease, the VIP would be permanent) and VIPLifetime.
// Without a guard the daemon keeps using lease as it is.
func Lifetime(lease time.Duration, now, until time.Time) time.Duration {
	g := VIPLifetime(now, until)
	if lease > 0 && lease < g {
		return lease
	}
	return g
}
