package chaos

import (
	"context"
	"time"
)

// keepalived's known differences from hactl, and how a mixed run
// accounts for them. keepalived's VIPs are permanent addresses (hactl's
// carry a lease), so:
//
//   - a SIGKILLed keepalived master leaves its VIP behind (on eth0, or on
//     the VMAC interface it also leaves behind). Nothing removes it until
//     keepalived starts again: its start-up removes the addresses of its
//     instances from interfaces that already existed
//     (vrrp.c:vrrp_restore_interfaces_startup, with vipset forced in
//     vrrp_complete_instance). The run counts the kill as
//     keepalived-known "sigkill-stale-vip", checks that an hactl node
//     takes over within the bound meanwhile (the stale VIP left out of
//     the owners, and only it), restarts keepalived as its service
//     manager would, and expects the restart to remove the stale VIP
//     ("stale-vip-removed-at-start") before the ordinary checks.
//   - a frozen keepalived master keeps its VIP for the whole freeze
//     ("sigstop-master-kept-vip"); an hactl node takes over meanwhile
//     (checked as above when the freeze outlasts the bound), and after
//     SIGCONT the two overlap until an advert settles it: bounded by
//     kaOverlapBound, separately from hactl's bound.
//
// hactl nodes get no such allowance: a lease outlived, or an hactl node
// holding the VIP it should not after the bound, is a violation as in a
// cluster of hactl alone.

// restartKilledKeepalived handles a SIGKILLed keepalived master: the
// stale VIP, the hactl takeover beside it, and the restart.
func (r *runner) restartKilledKeepalived(ctx context.Context, n *node, killed time.Time) error {
	iv := r.desc.interval
	if ok, dev := n.holdsOn(); ok {
		r.known("sigkill-stale-vip", "%s's VIP stays on %s after SIGKILL (keepalived has no lease)", n.Name, dev)
	} else {
		r.logf("%s: VIP gone with the SIGKILLed keepalived (not keepalived's usual behaviour)", n.Name)
	}
	r.takeover(ctx, n, killed)
	time.Sleep(r.pause(iv, 4*iv))
	stale := n.holds()
	gone := make(chan time.Time, 1)
	done := make(chan struct{})
	if stale {
		// Watch for the start-up's removal while keepalived starts (the
		// node's netlink handle is used by this goroutine only until done).
		go func() {
			for {
				if !n.holds() {
					gone <- time.Now()
					return
				}
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
	}
	err := n.start()
	if stale {
		select {
		case t := <-gone:
			d := t.Sub(killed)
			r.rep.StaleWorst = max(r.rep.StaleWorst, d)
			r.known("stale-vip-removed-at-start", "keepalived's restart removed %s's stale VIP %v after the kill", n.Name, d.Round(time.Millisecond))
		case <-time.After(3 * time.Second):
			r.known("stale-vip-kept-at-start", "%s: keepalived's restart did not remove the stale VIP within 3 s", n.Name)
		}
		close(done)
	}
	return err
}

// frozenKeepalived handles a frozen keepalived master: it keeps the VIP
// for the freeze, and an hactl node takes over beside it when the freeze
// is long enough.
func (r *runner) frozenKeepalived(ctx context.Context, n *node, frozen time.Time, d time.Duration) {
	if d > r.rep.Bound {
		r.takeover(ctx, n, frozen)
	}
	time.Sleep(max(0, d-time.Since(frozen)-10*time.Millisecond))
	if n.holds() {
		r.known("sigstop-master-kept-vip", "frozen keepalived %s kept its VIP for the whole %v freeze", n.Name, d.Round(time.Millisecond))
	}
}

// takeover checks that, with the keepalived node ka dead or frozen, the
// node the rules then choose (an hactl node) alone among the others
// holds the VIP within the bound, measured from since.
func (r *runner) takeover(ctx context.Context, ka *node, since time.Time) {
	want := r.chosenWithout(ka)
	limit := r.rep.Bound - time.Since(since)
	if _, err := r.convergeAmong(ctx, want, ka, limit); err != nil && ctx.Err() == nil {
		r.violation("with keepalived %s down: %v", ka.Name, err)
		return
	}
	d := time.Since(since)
	r.rep.TakeoverWorst = max(r.rep.TakeoverWorst, d)
	r.logf("%s took over from keepalived %s after %v", want.Name, ka.Name, d.Round(time.Millisecond))
}
