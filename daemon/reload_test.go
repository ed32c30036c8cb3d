package daemon

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
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
