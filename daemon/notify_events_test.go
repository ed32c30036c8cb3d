package daemon

import (
	"context"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/pkg/vrrp"
)

// lines reads the events queued for sub now, as FIFO lines ("*" marks a
// replayed state).
func lines(t *testing.T, sub *notify.Subscription) []string {
	t.Helper()
	var out []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		ev, err := sub.Next(ctx)
		cancel()
		if err != nil {
			if err == io.EOF {
				out = append(out, "EOF")
			}
			return out
		}
		l := ev.Line
		if ev.Replay {
			l = "*" + l
		}
		out = append(out, l)
	}
}

// TestLoopNotifications: what the loop notifies, in keepalived's words
// and order: the start (BACKUP, then MASTER), a lower priority heard
// while master (MASTER_RX_LOWER_PRI), a reload that lowers the priority
// (the states restated with fifo_write_vrrp_states_on_reload, then
// MASTER_PRIORITY with notify_priority_changes), the stop (STOP), and the
// end of the stream.
func TestLoopNotifications(t *testing.T) {
	cl := newCluster(t)
	a := cl.addNode("a", "10.0.0.201")
	global := "global_defs {\n    fifo_write_vrrp_states_on_reload\n}\n"
	conf := func(prio int) string {
		return global + vrrpInstance("VI_1", 51, prio, "10.0.0.201", "notify_priority_changes")
	}
	r := a.boot(conf(200))
	sub, err := r.bus.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	r.startInstances()
	cl.settle()
	cl.advance(5 * time.Second)
	if a.state("VI_1") != vrrp.Master {
		t.Fatal("a is not master")
	}
	want := []string{`INSTANCE "VI_1" BACKUP 200`, `INSTANCE "VI_1" MASTER 200`}
	if got := lines(t, sub); !slices.Equal(got, want) {
		t.Errorf("start: %q, want %q", got, want)
	}

	a.inject(t, "eth0", netip.MustParseAddr("10.0.0.9"), foreignAdvert(t, 51, 50, "10.0.0.52"))
	cl.advance(100 * time.Millisecond)
	want = []string{`INSTANCE "VI_1" MASTER_RX_LOWER_PRI 200`}
	if got := lines(t, sub); !slices.Equal(got, want) {
		t.Errorf("lower priority heard: %q, want %q", got, want)
	}

	a.reload(conf(150))
	cl.advance(time.Second)
	want = []string{`*INSTANCE "VI_1" MASTER 200`, `INSTANCE "VI_1" MASTER_PRIORITY 150`}
	if got := lines(t, sub); !slices.Equal(got, want) {
		t.Errorf("reload to priority 150: %q, want %q", got, want)
	}

	// Without notify_priority_changes nor the reload switch: nothing.
	a.reload(vrrpInstance("VI_1", 51, 120, "10.0.0.201"))
	cl.advance(time.Second)
	if got := lines(t, sub); len(got) != 0 {
		t.Errorf("reload without the switches: %q, want nothing", got)
	}

	a.stop()
	want = []string{`INSTANCE "VI_1" STOP 120`, "EOF"}
	if got := lines(t, sub); !slices.Equal(got, want) {
		t.Errorf("stop: %q, want %q", got, want)
	}
}
