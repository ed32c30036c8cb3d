package watch

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// fakeSource is a LiveSource fed by the test.
type fakeSource struct {
	frames chan Frame
	errs   chan error
	closed bool
}

func newFakeSource(frames ...Frame) *fakeSource {
	s := &fakeSource{frames: make(chan Frame, len(frames)), errs: make(chan error, 1)}
	for _, f := range frames {
		s.frames <- f
	}
	return s
}

func (s *fakeSource) Frames() <-chan Frame { return s.frames }
func (s *fakeSource) Errors() <-chan error { return s.errs }
func (s *fakeSource) Close() error         { s.closed = true; return nil }

func frame(t *testing.T, iface string, a adv) Frame {
	return Frame{Time: t0, Interface: iface, Data: a.ipPacket(t)}
}

func TestCheckInstance(t *testing.T) {
	vip := []netip.Addr{netip.MustParseAddr("10.0.0.100")}
	own := Configured{Name: "VI_1", Interface: "eth0", Family: vrrp.IPv4, VRID: 51,
		Advert: Advert{Version: vrrp.Version3, Interval: time.Second, VIPs: vip}}
	same := adv{src: "10.0.0.2", dst: "224.0.0.18", vrid: 51, prio: 100, vips: []string{"10.0.0.100"}}
	for _, tc := range []struct {
		name   string
		in     Configured
		heard  []adv
		iface  string
		want   CheckStatus
		differ string
	}{
		{name: "nothing heard", in: own, want: CheckFree},
		{name: "this cluster", in: own, heard: []adv{same}, want: CheckInUse},
		{name: "other VIPs", in: own, heard: []adv{{src: "10.0.0.3", dst: "224.0.0.18", vrid: 51, prio: 100, vips: []string{"10.0.0.9"}}},
			want: CheckConflict, differ: "VIPs"},
		{name: "other version", in: own, heard: []adv{{src: "10.0.0.3", dst: "224.0.0.18", version: vrrp.Version2, vrid: 51, prio: 100, vips: []string{"10.0.0.100"}}},
			want: CheckConflict, differ: "version"},
		{name: "other interval", in: own, heard: []adv{{src: "10.0.0.3", dst: "224.0.0.18", vrid: 51, prio: 100, interval: 2 * time.Second, vips: []string{"10.0.0.100"}}},
			want: CheckMismatch, differ: "interval"},
		{name: "conflict wins over in-use", in: own, heard: []adv{same, {src: "10.0.0.3", dst: "224.0.0.18", vrid: 51, prio: 100, vips: []string{"10.0.0.9"}}},
			want: CheckConflict},
		{name: "other VRID", in: own, heard: []adv{{src: "10.0.0.3", dst: "224.0.0.18", vrid: 52, prio: 100, vips: []string{"10.0.0.9"}}}, want: CheckFree},
		{name: "other interface", in: own, iface: "eth1", heard: []adv{same}, want: CheckFree},
		{name: "no interface", in: Configured{Name: "VI_2", VRID: 51, Family: vrrp.IPv4}, heard: []adv{same}, want: CheckSkipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewTable(Options{})
			var dec Decoder
			iface := tc.iface
			if iface == "" {
				iface = "eth0"
			}
			for _, a := range tc.heard {
				p, ok := dec.Decode(frame(t, iface, a))
				if !ok {
					t.Fatal("frame not decoded")
				}
				tb.Observe(&p)
			}
			got := CheckInstance(tc.in, tb.Rows())
			if got.Status != tc.want {
				t.Fatalf("status %q, want %q (%+v)", got.Status, tc.want, got)
			}
			if got.Family != "inet" || got.VRID != tc.in.VRID || got.Name != tc.in.Name {
				t.Errorf("identity: %+v", got)
			}
			if tc.differ != "" {
				var all []string
				for _, s := range got.Sources {
					all = append(all, s.Differ...)
				}
				if !strings.Contains(strings.Join(all, ","), tc.differ) {
					t.Errorf("differ %v, want %q", all, tc.differ)
				}
			}
		})
	}
}

func TestCheckLive(t *testing.T) {
	vip := []netip.Addr{netip.MustParseAddr("10.0.0.100")}
	instances := []Configured{
		{Name: "VI_1", Interface: "eth0", Family: vrrp.IPv4, VRID: 51, Advert: Advert{Version: vrrp.Version3, Interval: 10 * time.Millisecond, VIPs: vip}},
		{Name: "VI_2", Interface: "eth0", Family: vrrp.IPv4, VRID: 52, Advert: Advert{Version: vrrp.Version3, Interval: 10 * time.Millisecond, VIPs: vip}},
	}
	src := newFakeSource(frame(t, "eth0", adv{src: "10.0.0.3", dst: "224.0.0.18", vrid: 52, prio: 100, interval: 10 * time.Millisecond, vips: []string{"10.0.0.9"}}))
	var opened []string
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	res, err := CheckLive(ctx, LiveCheckConfig{File: "k.conf", Instances: instances, Progress: &progress,
		Open: func(ifaces []string, _ func() time.Time) (LiveSource, error) { opened = ifaces; return src, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(opened, ",") != "eth0" || strings.Join(res.Interfaces, ",") != "eth0" {
		t.Errorf("interfaces: opened %v, result %v", opened, res.Interfaces)
	}
	if !src.closed {
		t.Error("capture not closed")
	}
	if res.Valid || res.Conflicts() != 1 || len(res.Instances) != 2 ||
		res.Instances[0].Status != CheckFree || res.Instances[1].Status != CheckConflict {
		t.Errorf("result %+v", res)
	}
	if res.Listened() < MinLiveCheck {
		t.Errorf("listened %v, want at least %v", res.Listened(), MinLiveCheck)
	}
	if !strings.Contains(progress.String(), "listening for 3s on eth0") {
		t.Errorf("progress %q", progress.String())
	}
	// A capture that cannot open fails the check.
	_, err = CheckLive(ctx, LiveCheckConfig{Instances: instances,
		Open: func([]string, func() time.Time) (LiveSource, error) { return nil, ErrLiveUnsupported }})
	if !errors.Is(err, ErrLiveUnsupported) {
		t.Errorf("err %v, want ErrLiveUnsupported", err)
	}
	// No interface configured: nothing to listen on, every instance skipped.
	res, err = CheckLive(ctx, LiveCheckConfig{Instances: []Configured{{Name: "VI_3", VRID: 3}},
		Open: func([]string, func() time.Time) (LiveSource, error) { t.Error("opened a capture"); return nil, nil }})
	if err != nil || !res.Valid || res.Instances[0].Status != CheckSkipped {
		t.Errorf("no interface: %+v, %v", res, err)
	}
}

func TestListen(t *testing.T) {
	ok := adv{src: "10.0.0.2", dst: "224.0.0.18", vrid: 51, prio: 100, vips: []string{"10.0.0.100"}}
	t.Run("OnFrame stops", func(t *testing.T) {
		src := newFakeSource(frame(t, "eth0", ok), frame(t, "eth0", ok), frame(t, "eth0", ok))
		n := 0
		res, err := Listen(t.Context(), ListenConfig{Source: src, Duration: time.Minute,
			OnFrame: func(Frame) bool { n++; return n == 2 }})
		if err != nil || n != 2 || res.Interrupted {
			t.Errorf("n %d, res %+v, err %v", n, res, err)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		res, err := Listen(ctx, ListenConfig{Source: newFakeSource()})
		if err != nil || !res.Interrupted {
			t.Errorf("res %+v, err %v", res, err)
		}
	})
	t.Run("capture fails", func(t *testing.T) {
		src := newFakeSource()
		src.errs <- errors.New("boom")
		if _, err := Listen(t.Context(), ListenConfig{Source: src, Duration: time.Minute}); err == nil || err.Error() != "boom" {
			t.Errorf("err %v", err)
		}
	})
	t.Run("extended", func(t *testing.T) {
		asked := 0
		res, err := Listen(t.Context(), ListenConfig{Source: newFakeSource(), Duration: 10 * time.Millisecond,
			Extend: func(time.Duration) time.Duration { asked++; return 60 * time.Millisecond }})
		if err != nil || res.Listened < 60*time.Millisecond || asked != 2 {
			t.Errorf("res %+v, asked %d, err %v", res, asked, err)
		}
	})
	t.Run("ticks", func(t *testing.T) {
		ticks := 0
		_, err := Listen(t.Context(), ListenConfig{Source: newFakeSource(), Duration: 200 * time.Millisecond,
			Tick: 10 * time.Millisecond, OnTick: func() { ticks++ }})
		if err != nil || ticks == 0 {
			t.Errorf("ticks %d, err %v", ticks, err)
		}
	})
}

func TestInterfacesUnknown(t *testing.T) {
	if _, err := Interfaces("hactl-no-such0"); err == nil || !strings.Contains(err.Error(), "hactl-no-such0") {
		t.Errorf("err %v", err)
	}
}
