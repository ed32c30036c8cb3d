package daemon

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/vrrp"
)

// fakeReloader is a reloader whose runs block until released.
func fakeReloader(ctx context.Context) (*reloader, *atomic.Int32, chan struct{}) {
	var runs atomic.Int32
	release := make(chan struct{})
	rl := &reloader{ctx: ctx, ready: make(chan struct{})}
	rl.run = func() (api.ReloadResult, error) {
		n := runs.Add(1)
		<-release
		return api.ReloadResult{Reloaded: true, Diagnostics: []string{string(rune('0' + n))}}, nil
	}
	close(rl.ready)
	return rl, &runs, release
}

func TestReloadsCoalesce(t *testing.T) {
	rl, runs, release := fakeReloader(context.Background())
	first := make(chan reloadOutcome, 1)
	rl.request(first)
	waitFor(t, func() bool { return runs.Load() == 1 })
	// Three requests while the first run is going: one more run, which
	// answers all three.
	var later []chan reloadOutcome
	for range 3 {
		ch := make(chan reloadOutcome, 1)
		later = append(later, ch)
		rl.request(ch)
	}
	rl.request(nil) // a SIGHUP
	release <- struct{}{}
	if o := <-first; o.res.Diagnostics[0] != "1" {
		t.Errorf("the first request got run %v", o.res.Diagnostics)
	}
	release <- struct{}{}
	for _, ch := range later {
		if o := <-ch; o.err != nil || o.res.Diagnostics[0] != "2" {
			t.Errorf("a request made during run 1 got %+v, want run 2", o)
		}
	}
	waitFor(t, func() bool { rl.mu.Lock(); defer rl.mu.Unlock(); return !rl.running })
	if n := runs.Load(); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

func TestReloadAfterStopIsRefused(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rl, runs, release := fakeReloader(ctx)
	rl.request(nil)
	waitFor(t, func() bool { return runs.Load() == 1 })
	waiting := make(chan reloadOutcome, 1)
	rl.request(waiting)
	cancel()
	close(release)
	if o := <-waiting; o.err == nil {
		t.Errorf("a request queued behind a run when the daemon stops got %+v, want an error", o)
	}
	after := make(chan reloadOutcome, 1)
	rl.request(after)
	if o := <-after; o.err == nil {
		t.Errorf("a request after the stop got %+v", o)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("condition not met within 1s")
}

// drainEvents reads what sub has queued, without waiting.
func drainEvents(t *testing.T, sub *notify.Subscription) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out []string
	for range 1000 {
		ev, err := sub.Next(ctx)
		if err != nil {
			return out
		}
		out = append(out, fmt.Sprintf("%s %s %d", ev.Name, ev.State, ev.Priority))
	}
	t.Fatal("more than 1000 events queued")
	return nil
}

// TestLoopReloadRemovesAndAddsInstances: a reload that removes a master's
// instance makes it send priority 0 (the backup takes over after its
// skew time, not its Master_Down_Interval), drop the VIP and notify
// DELETED (notify_deleted); one that adds an instance starts it and it
// wins; one that changes an instance beyond priority (an excluded VIP
// added; keepalived keeps such an instance) starts it again without a
// DELETED or FAULT, and it is master again.
func TestLoopReloadRemovesAndAddsInstances(t *testing.T) {
	cl, a, b := pair(t)
	cl.neverTwoHolders(vipOf(52))
	a.start(vrrpInstance("VI_1", 51, 200, "10.0.0.201") + vrrpInstance("VI_2", 52, 200, "10.0.0.201", "notify_deleted"))
	b.start(vrrpInstance("VI_1", 51, 100, "10.0.0.202") + vrrpInstance("VI_2", 52, 100, "10.0.0.202") + vrrpInstance("VI_3", 53, 100, "10.0.0.202"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool {
		return a.state("VI_1") == vrrp.Master && a.state("VI_2") == vrrp.Master && b.state("VI_3") == vrrp.Master
	})
	sub, err := a.r.bus.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	cl.check = nil // VI_3 has two masters until a's advert reaches b
	a.reload(vrrpInstance("VI_1", 51, 200, "10.0.0.201") + vrrpInstance("VI_3", 53, 200, "10.0.0.201"))
	if a.r.byName["VI_2"] != nil || slices.Contains(cl.holders(vipOf(52)), "a") {
		t.Fatalf("after the reload a still runs VI_2 or holds its VIP (holders %v)", cl.holders(vipOf(52)))
	}
	took := cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return b.state("VI_2") == vrrp.Master })
	if mdi := vrrp.MasterDownInterval(vrrp.Version2, 100, time.Second); took >= mdi-time.Second {
		t.Errorf("b took VI_2 over %v after the reload, want its skew time (no priority-0 advert? Master_Down_Interval is %v)", took, mdi)
	}
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_3") == vrrp.Master && b.state("VI_3") == vrrp.Backup })
	if h := cl.holders(vipOf(53)); !slices.Equal(h, []string{"a"}) {
		t.Errorf("VI_3's VIP held by %v, want [a]", h)
	}
	if got, want := drainEvents(t, sub), []string{"VI_2 DELETED 200", "VI_3 BACKUP 200", "VI_3 MASTER 200"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}

	a.reload(vrrpInstance("VI_1", 51, 200, "10.0.0.201", "virtual_ipaddress_excluded {\n        10.9.9.9/24\n    }") + vrrpInstance("VI_3", 53, 200, "10.0.0.201"))
	cl.advanceUntil(10*time.Millisecond, 10*time.Second, func() bool { return a.state("VI_1") == vrrp.Master })
	if got, want := drainEvents(t, sub), []string{"VI_1 BACKUP 200", "VI_1 MASTER 200"}; !slices.Equal(got, want) {
		t.Errorf("events after VI_1 changed %q, want %q", got, want)
	}
	if !a.vips.holds("10.9.9.9/24") {
		t.Error("VI_1's new excluded VIP is not held")
	}
	if c := a.conns[sockKey{"eth0", 4, false}]; c == nil || c.closed {
		t.Error("eth0's socket, still used, was closed")
	}
}
