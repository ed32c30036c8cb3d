package chaos

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
//   - under auth_type AH, keepalived keeps one sequence counter per
//     instance for sending and receiving and drops an advert whose number
//     is not above it as a replay (vrrp.c:vrrp_in_chk_ipsecah); and it
//     re-arms its advert timer after every packet it reads, dropped or
//     not (vrrp_scheduler.c:vrrp_dispatcher_read). A node that could not
//     hear a keepalived master (deaf, restarted with its counter at 0)
//     and became master advertises numbers keepalived has passed, so
//     keepalived drops them and, its timer pushed back by each, sends
//     nothing: both keep the VIP until a number above keepalived's counter
//     reaches it (the other master's, or the third node's when its
//     master-down timer runs out: it refuses the stale numbers too), and
//     keepalived, taking it as a lower-priority advert, answers at once.
//     Such an overlap, when keepalived's log shows the replay drops since
//     the fault began, is counted as "ah-replay-silence" and bounded by
//     the convergence bound instead of kaOverlapBound; the convergence
//     check itself is unchanged.
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

// kaLogMark is the keepalived node's log size (0 without one).
func (r *runner) kaLogMark() int64 {
	if r.ka == nil {
		return 0
	}
	st, err := os.Stat(filepath.Join(r.ka.Dir, "keepalived.log"))
	if err != nil {
		return 0
	}
	return st.Size()
}

// ahReplayDrop is the line keepalived 2.2.7 logs for an AH advert whose
// sequence number it has passed (vrrp.c:vrrp_in_chk_ipsecah).
var ahReplayDrop = []byte("already processed. Packet dropped.")

// ahReplaySilence reports whether, in the AH variant, keepalived has
// logged dropping an advert as an AH replay since the current fault
// began.
func (r *runner) ahReplaySilence() bool {
	if r.ka == nil || r.desc.variant != VariantAH {
		return false
	}
	f, err := os.Open(filepath.Join(r.ka.Dir, "keepalived.log"))
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(r.mark, io.SeekStart); err != nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	return err == nil && bytes.Contains(b, ahReplayDrop)
}
