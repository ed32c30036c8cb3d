//go:build linux

package track

import (
	"context"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// noEvent fails if key changes within d.
func noEvent(t *testing.T, m *Monitor, key Key, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case <-m.Ready():
			for _, ev := range m.Drain() {
				if ev.Key == key {
					t.Fatalf("unexpected event %s -> %s (%s)", key, ev.State.Status, ev.State.Detail)
				}
			}
		case <-deadline:
			return
		}
	}
}

// interface_up_down_delays: a link going down counts only after its down
// delay; a flap shorter than the delay is not seen at all; going up with
// no up delay counts at once (keepalived's update_interface_flags).
func TestE2EInterfaceDebounce(t *testing.T) {
	labtest.Require(t)
	l := labtest.Up(t, netlab.Config{Nodes: 1})
	node := l.Node(1)
	const down = 600 * time.Millisecond
	cfg := &config.Config{
		IfDelays:  []config.IfDelay{{Interface: "eth0", Down: down}},
		Instances: []*config.Instance{{Name: "VI_1", Interface: "eth0", Priority: 100, AdvertInt: time.Second}},
	}
	m, err := New(cfg, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Do(func() error { return m.Start(context.Background()) }); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	eth0 := Key{KindInterface, "eth0"}
	if st := m.State(eth0); st.Status != StatusOK {
		waitEvent(t, m, eth0, StatusOK, 3*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ip := func(args ...string) {
		t.Helper()
		if out, err := node.Run(ctx, append([]string{"ip"}, args...)...); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	began := time.Now() // before the change: its delay starts when its event arrives
	ip("link", "set", "eth0", "down")
	if left := down/2 - time.Since(began); left > 0 {
		noEvent(t, m, eth0, left)
	}
	waitEvent(t, m, eth0, StatusFailed, 3*time.Second)
	if took := time.Since(began); took < down {
		t.Errorf("down counted after %v, before its %v delay", took, down)
	}
	ip("link", "set", "eth0", "up")
	waitEvent(t, m, eth0, StatusOK, 3*time.Second)
	// A flap shorter than the delay.
	ip("link", "set", "eth0", "down")
	ip("link", "set", "eth0", "up")
	noEvent(t, m, eth0, down+300*time.Millisecond)
	if st := m.State(eth0); st.Status != StatusOK {
		t.Errorf("after a short flap: %+v", st)
	}
}
