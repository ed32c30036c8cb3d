package vrrp

import (
	"testing"
	"time"
)

// keepalived's timing knobs beyond RFC 5798 (keepalived 2.2.7's
// vrrp_startup_delay, down_timer_adverts, lower_prio_no_advert,
// higher_prio_send_advert), with the deterministic clock of the harness.

// mdi is Master_Down_Interval at priority 100, interval 1 s, VRRPv3.
const mdi = 3*time.Second + 156*time.Second/256

// TestKeepalived_StartupDelay: nothing before the delay ends: a backup
// that hears nobody takes over at the delay plus its Master_Down_Interval,
// the owner at the delay, a promoted backup at the delay; one that hears a
// master during the delay follows it; after the delay the timers are
// plain again.
func TestKeepalived_StartupDelay(t *testing.T) {
	const delay = 2 * time.Second
	t.Run("backup", func(t *testing.T) {
		h := newHarness(t, nil)
		h.in.DelayStartup(delay)
		h.step(0, Startup())
		h.wantState(Backup)
		if at := h.armedAt(MasterDownTimer); at != delay+mdi {
			t.Fatalf("Master_Down_Timer at %v, want %v", at, delay+mdi)
		}
		h.fire(MasterDownTimer)
		h.wantState(Master)
		if h.now != delay+mdi {
			t.Errorf("master at %v", h.now)
		}
	})
	t.Run("owner", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Priority = PriorityOwner })
		h.in.DelayStartup(delay)
		h.step(0, Startup())
		h.wantState(Backup)
		if h.has(ActionSendAdvert) || h.has(ActionAddVIPs) {
			t.Fatalf("the owner sent or took VIPs during the delay: %v", h.acts)
		}
		if at := h.armedAt(MasterDownTimer); at != delay {
			t.Fatalf("owner's timer at %v, want %v", at, delay)
		}
		h.fire(MasterDownTimer)
		h.wantState(Master)
	})
	t.Run("follows a master heard during the delay", func(t *testing.T) {
		h := newHarness(t, nil)
		h.in.DelayStartup(delay)
		h.step(0, Startup())
		h.advert(500*time.Millisecond, addrHigh, 200, time.Second)
		if at := h.armedAt(MasterDownTimer); at != delay+MasterDownInterval(Version3, 100, time.Second) {
			t.Fatalf("timer at %v after an advert in the delay", at)
		}
		// After the delay: plain timers.
		h.advert(3*time.Second, addrHigh, 200, time.Second)
		if at := h.armedAt(MasterDownTimer); at != 3*time.Second+mdi {
			t.Fatalf("timer at %v after the delay, want %v", at, 3*time.Second+mdi)
		}
		h.wantState(Backup)
	})
	t.Run("promotion waits", func(t *testing.T) {
		h := newHarness(t, nil)
		h.in.DelayStartup(delay)
		h.step(0, Startup())
		h.step(time.Second, Promote())
		h.wantState(Backup)
		if h.has(ActionSendAdvert) {
			t.Fatal("a promotion sent an advert during the delay")
		}
		h.fire(MasterDownTimer)
		h.wantState(Master)
		if h.now != delay {
			t.Errorf("promoted master at %v, want %v", h.now, delay)
		}
	})
	t.Run("no delay", func(t *testing.T) {
		h := newHarness(t, func(c *Config) { c.Priority = PriorityOwner })
		h.step(0, Startup())
		h.wantState(Master)
	})
}

// TestKeepalived_DownTimerAdverts: Master_Down_Interval counts
// down_timer_adverts intervals, then Skew_Time.
func TestKeepalived_DownTimerAdverts(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{
		{0, mdi},
		{3, mdi},
		{1, time.Second + 156*time.Second/256},
		{10, 10*time.Second + 156*time.Second/256},
	} {
		h := newHarness(t, func(c *Config) { c.DownTimerAdverts = tt.n })
		h.step(0, Startup())
		if at := h.armedAt(MasterDownTimer); at != tt.want {
			t.Errorf("down_timer_adverts %d: timer at %v, want %v", tt.n, at, tt.want)
		}
		// A master with interval 200 ms (VRRPv3): n of those, and its skew.
		h.advert(time.Second, addrHigh, 200, 200*time.Millisecond)
		n := max(tt.n, 0)
		if n == 0 {
			n = 3
		}
		want := time.Second + time.Duration(n)*200*time.Millisecond + 156*200*time.Millisecond/256
		if at := h.armedAt(MasterDownTimer); at != want {
			t.Errorf("down_timer_adverts %d after a 200 ms master: %v, want %v", tt.n, at, want)
		}
	}
	for _, n := range []int{-1, 101} {
		c := baseCfg()
		c.DownTimerAdverts = n
		if c.Validate() == nil {
			t.Errorf("down_timer_adverts %d accepted", n)
		}
	}
}

// masterHarness is an instance that has become master (no peer heard).
func masterHarness(t *testing.T, mod func(*Config)) *harness {
	h := newHarness(t, mod)
	h.step(0, Startup())
	h.fire(MasterDownTimer)
	h.wantState(Master)
	return h
}

// TestKeepalived_LowerPrioNoAdvert: a master hearing a lower priority
// answers with an advert unless lower_prio_no_advert; either way the
// answer is counted (LowerHeard), spaced by a tenth of the interval.
func TestKeepalived_LowerPrioNoAdvert(t *testing.T) {
	for _, noAdvert := range []bool{false, true} {
		h := masterHarness(t, func(c *Config) { c.LowerPrioNoAdvert = noAdvert })
		at := h.now + 10*time.Millisecond
		h.advert(at, addrLow, 50, time.Second)
		if h.has(ActionSendAdvert) == noAdvert {
			t.Errorf("lower_prio_no_advert %v: actions %v", noAdvert, h.acts)
		}
		h.advert(at+time.Millisecond, addrLow, 50, time.Second) // within the spacing
		h.advert(at+200*time.Millisecond, addrLow, 50, time.Second)
		if got := h.in.LowerHeard(); got != 2 {
			t.Errorf("lower_prio_no_advert %v: LowerHeard %d, want 2", noAdvert, got)
		}
		h.wantState(Master)
	}
}

// TestKeepalived_HigherPrioSendAdvert: a master hearing a higher priority
// sends one advert of its own before stepping down, with
// higher_prio_send_advert.
func TestKeepalived_HigherPrioSendAdvert(t *testing.T) {
	for _, send := range []bool{false, true} {
		h := masterHarness(t, func(c *Config) { c.HigherPrioSendAdvert = send })
		h.advert(h.now+10*time.Millisecond, addrHigh, 200, time.Second)
		h.wantState(Backup)
		if len(h.acts) == 0 || (h.acts[0].Kind == ActionSendAdvert) != send {
			t.Errorf("higher_prio_send_advert %v: actions %v", send, h.acts)
		}
		if send && h.acts[0].Priority != 100 {
			t.Errorf("sent priority %d, want ours (100)", h.acts[0].Priority)
		}
	}
}
