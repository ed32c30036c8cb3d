//go:build linux

package daemon_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// TestE2EStartupDelay: with vrrp_startup_delay 2, a node alone on the
// segment puts no advert on the wire and holds no VIP for 2 s after its
// start (a tap on its peer's side sees the wire); then it takes over one
// Master_Down_Interval after the delay; the address owner at the delay.
// keepalived 2.2.7 runs the same config for reference, with the same
// bounds.
func TestE2EStartupDelay(t *testing.T) {
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	n1, n2 := l.Node(1), l.Node(2)
	vip := netip.MustParsePrefix(netlab.DemoVIP)
	const delay = 2 * time.Second
	for _, tt := range []struct {
		prio       int
		mdi        time.Duration // Master_Down_Interval, advert_int 0.2, VRRPv3
		keepalived bool          // run keepalived 2.2.7 instead, for reference
	}{
		{100, 600*time.Millisecond + 156*200*time.Millisecond/256, false},
		{255, 0, false},
		{100, 600*time.Millisecond + 156*200*time.Millisecond/256, true},
	} {
		name := fmt.Sprint("priority-", tt.prio)
		if tt.keepalived {
			name = "keepalived-" + name
		}
		t.Run(name, func(t *testing.T) {
			if tt.keepalived {
				labtest.Require(t, "keepalived")
			}
			tap := tapAdverts(t, n2, 81)
			h := newHolders(t, []*netlab.Host{n1}, vip)
			conf := fmt.Sprintf(`global_defs {
    vrrp_startup_delay 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 81
    version 3
    priority %d
    advert_int 0.2
    virtual_ipaddress {
        %s
    }
}
`, tt.prio, vip)
			start := time.Now()
			stop := startReference(t, n1, conf, tt.keepalived)
			var vipAt time.Duration
			for time.Since(start) < delay+tt.mdi+2*time.Second {
				if len(h.owners()) > 0 {
					vipAt = time.Since(start)
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			first := tap.first(n1.Addr4)
			stop()
			if vipAt == 0 || first.IsZero() {
				t.Fatalf("no VIP (%v) or no advert (%v) within %v", vipAt, first, delay+tt.mdi+2*time.Second)
			}
			advertAt := first.Sub(start)
			t.Logf("%s: first advert %v after the start, VIP at %v (delay %v, Master_Down_Interval %v)", name, advertAt, vipAt, delay, tt.mdi)
			if advertAt < delay || vipAt < delay {
				t.Errorf("advert at %v, VIP at %v: before the %v startup delay", advertAt, vipAt, delay)
			}
			// The start itself and a loaded machine: a second of margin.
			if limit := delay + tt.mdi + time.Second; advertAt > limit || vipAt > limit {
				t.Errorf("advert at %v, VIP at %v: later than %v", advertAt, vipAt, limit)
			}
		})
	}
}

// first is when the tap saw src's first advert; zero before.
func (tap *advertTap) first(src netip.Addr) time.Time {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	if at := tap.at[src]; len(at) > 0 {
		return at[0]
	}
	return time.Time{}
}

// startReference starts hactl, or keepalived 2.2.7, on n with conf; the
// function returned stops it.
func startReference(t *testing.T, n *netlab.Host, conf string, keepalived bool) func() {
	t.Helper()
	if !keepalived {
		d := startDaemon(t, n, conf)
		return func() { d.Stop(3 * time.Second) }
	}
	path := filepath.Join(n.Dir, "keepalived.conf")
	write(t, path, conf, 0o644)
	kp, err := n.Start("keepalived", netlab.KeepalivedArgv(n, path)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kp.Stop(3 * time.Second) })
	return func() { kp.Stop(3 * time.Second) }
}
