package vrrp

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests in this file are named after the RFC clause they check, in the
// spirit of etcd/raft's raft_paper_test.go, so the protocol can be reviewed
// clause by clause. Tests of keepalived-specific behaviour say so.

var (
	addrLow  = netip.MustParseAddr("192.0.2.1")
	addrMid  = netip.MustParseAddr("192.0.2.5")
	addrHigh = netip.MustParseAddr("192.0.2.9")
)

func baseCfg() Config {
	return Config{VRID: 51, Version: Version3, Priority: 100, Interval: time.Second, Primary: addrMid}
}

// harness wraps an Instance with a clock and remembers the last actions.
type harness struct {
	t    *testing.T
	in   *Instance
	now  time.Duration
	acts []Action
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	cfg := baseCfg()
	if mod != nil {
		mod(&cfg)
	}
	in, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, in: in}
}

func (h *harness) step(at time.Duration, ev Event) []Action {
	h.now = at
	h.acts = slices.Clone(h.in.Step(at, ev))
	return h.acts
}

func (h *harness) advert(at time.Duration, src netip.Addr, prio uint8, ivl time.Duration) []Action {
	a := &Advertisement{Version: h.in.cfg.Version, VRID: h.in.cfg.VRID, Priority: prio, Interval: ivl}
	return h.step(at, AdvertReceived(src, a))
}

// fire fires the currently armed timer of kind k.
func (h *harness) fire(k TimerKind) []Action {
	h.t.Helper()
	gen := h.in.timerGen[k]
	if gen == 0 {
		h.t.Fatalf("%v not armed (state %v)", k, h.in.state)
	}
	return h.step(h.in.timerAt[k], TimerExpired(k, gen))
}

func (h *harness) wantState(s State) {
	h.t.Helper()
	if h.in.State() != s {
		h.t.Fatalf("state %v, want %v (last actions %v)", h.in.State(), s, h.acts)
	}
}

// wantActs checks the last actions against a compact rendering, e.g.
// "send-advert prio=100|add-vips accept=false|...". Timer generations and
// deadlines are included, so tests pin exact timing.
func (h *harness) wantActs(want string) {
	h.t.Helper()
	var got []string
	for _, a := range h.acts {
		got = append(got, a.String())
	}
	if g := strings.Join(got, "|"); g != want {
		h.t.Fatalf("actions\n got %s\nwant %s", g, want)
	}
}

func (h *harness) armedAt(k TimerKind) time.Duration {
	h.t.Helper()
	for _, a := range h.acts {
		if a.Kind == ActionArmTimer && a.Timer == k {
			return a.At
		}
	}
	h.t.Fatalf("no arm of %v in %v", k, h.acts)
	return 0
}

func (h *harness) has(kind ActionKind) bool {
	return slices.ContainsFunc(h.acts, func(a Action) bool { return a.Kind == kind })
}

func TestRFC5798_6_1_SkewAndMasterDownInterval(t *testing.T) {
	tests := []struct {
		v        Version
		prio     uint8
		ivl      time.Duration
		wantSkew time.Duration
	}{
		{Version3, 100, time.Second, 156 * time.Second / 256},
		{Version3, 254, 500 * time.Millisecond, 2 * 500 * time.Millisecond / 256},
		{Version3, 1, 100 * time.Millisecond, 255 * 100 * time.Millisecond / 256},
		{Version2, 100, 3 * time.Second, 156 * time.Second / 256}, // RFC 3768: seconds, not scaled
		{Version2, 200, time.Second, 56 * time.Second / 256},
	}
	for _, tt := range tests {
		h := newHarness(t, func(c *Config) { c.Version, c.Priority, c.Interval = tt.v, tt.prio, tt.ivl })
		if got := h.in.skew(); got != tt.wantSkew {
			t.Errorf("v%d prio %d ivl %v: skew %v, want %v", tt.v, tt.prio, tt.ivl, got, tt.wantSkew)
		}
		if got := h.in.masterDownInterval(); got != 3*tt.ivl+tt.wantSkew {
			t.Errorf("v%d prio %d: MDI %v", tt.v, tt.prio, got)
		}
		if got := SkewTime(tt.v, int(tt.prio), tt.ivl); got != tt.wantSkew {
			t.Errorf("SkewTime(%d, %d, %v) = %v, want %v", tt.v, tt.prio, tt.ivl, got, tt.wantSkew)
		}
		if got := MasterDownInterval(tt.v, int(tt.prio), tt.ivl); got != 3*tt.ivl+tt.wantSkew {
			t.Errorf("MasterDownInterval(%d, %d, %v) = %v", tt.v, tt.prio, tt.ivl, got)
		}
	}
}

func TestRFC5798_6_4_1_OwnerStartsAsMaster(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Priority = 255 })
	h.step(0, Startup())
	h.wantState(Master)
	h.wantActs("send-advert prio=255|add-vips accept=true|announce|arm Adver_Timer at=1s gen=1|state INIT->MASTER")
}

func TestRFC5798_6_4_1_NonOwnerStartsAsBackup(t *testing.T) {
	h := newHarness(t, nil)
	h.step(time.Second, Startup())
	h.wantState(Backup)
	if at := h.armedAt(MasterDownTimer); at != time.Second+3*time.Second+156*time.Second/256 {
		t.Fatalf("Master_Down_Timer at %v", at)
	}
}

func TestRFC5798_6_4_2_MasterDownTimerExpiryBecomesMaster(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Accept = true })
	h.step(0, Startup())
	h.fire(MasterDownTimer)
	h.wantState(Master)
	h.wantActs("send-advert prio=100|add-vips accept=true|announce|arm Adver_Timer at=4.609375s gen=2|state BACKUP->MASTER")
}

func TestRFC5798_6_4_2_BackupResetsTimerOnHigherOrEqualPriority(t *testing.T) {
	for _, prio := range []uint8{100, 101, 255} {
		h := newHarness(t, nil)
		h.step(0, Startup())
		h.advert(2*time.Second, addrLow, prio, time.Second)
		if at := h.armedAt(MasterDownTimer); at != 2*time.Second+h.in.masterDownInterval() {
			t.Fatalf("prio %d: timer at %v", prio, at)
		}
		if st := h.in.Status(); st.MasterAddr != addrLow || st.MasterPriority != prio {
			t.Fatalf("status %+v", st)
		}
	}
}

func TestRFC5798_6_4_2_BackupAdoptsMasterAdverInterval(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.advert(0, addrHigh, 200, 4*time.Second)
	want := 3*4*time.Second + 156*4*time.Second/256
	if at := h.armedAt(MasterDownTimer); at != want {
		t.Fatalf("timer at %v, want %v (3 x master's interval + skew)", at, want)
	}
}

func TestRFC3768_BackupV2UsesOwnInterval(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Version = Version2 })
	h.step(0, Startup())
	h.advert(0, addrHigh, 200, time.Second)
	if got := h.in.Status().MasterAdverInt; got != time.Second {
		t.Fatalf("Master_Adver_Interval %v", got)
	}
}

func TestRFC5798_6_4_2_PreemptingBackupDiscardsLowerPriority(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	deadline := h.in.timerAt[MasterDownTimer]
	h.advert(time.Second, addrHigh, 99, time.Second)
	if len(h.acts) != 0 || h.in.timerAt[MasterDownTimer] != deadline {
		t.Fatalf("lower-priority advert changed something: %v", h.acts)
	}
	h.fire(MasterDownTimer)
	h.wantState(Master)
}

func TestRFC5798_6_4_2_NoPreemptBackupAcceptsLowerPriority(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.NoPreempt = true })
	h.step(0, Startup())
	h.advert(time.Second, addrLow, 50, time.Second)
	if at := h.armedAt(MasterDownTimer); at != time.Second+h.in.masterDownInterval() {
		t.Fatalf("timer at %v", at)
	}
	h.wantState(Backup)
}

func TestRFC5798_6_4_2_PriorityZeroWaitsOnlySkewTime(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.advert(time.Second, addrHigh, 200, time.Second)
	h.advert(2*time.Second, addrHigh, 0, time.Second)
	if at := h.armedAt(MasterDownTimer); at != 2*time.Second+156*time.Second/256 {
		t.Fatalf("timer at %v, want now + Skew_Time", at)
	}
	h.fire(MasterDownTimer)
	h.wantState(Master)
}

func TestRFC5798_6_4_2_BackupShutdown(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.step(time.Second, Shutdown())
	h.wantState(Stopped)
	h.wantActs("stop Master_Down_Timer|state BACKUP->STOPPED")
}

// master returns a harness whose instance is master at t=0.
func master(t *testing.T, mod func(*Config)) *harness {
	h := newHarness(t, func(c *Config) {
		c.Priority = 255
		if mod != nil {
			mod(c)
		}
	})
	h.step(0, Startup())
	if h.in.cfg.Priority != 255 {
		return h
	}
	h.wantState(Master)
	return h
}

// masterAt100 returns a non-owner master with priority 100 at addrMid.
func masterAt100(t *testing.T, mod func(*Config)) *harness {
	h := newHarness(t, mod)
	h.step(0, Startup())
	h.fire(MasterDownTimer)
	h.wantState(Master)
	return h
}

func TestRFC5798_6_4_3_AdverTimerSendsAndRearms(t *testing.T) {
	h := master(t, nil)
	h.fire(AdverTimer)
	h.wantActs("send-advert prio=255|arm Adver_Timer at=2s gen=2")
}

func TestRFC5798_6_4_3_MasterStepsDownToHigherPriority(t *testing.T) {
	h := masterAt100(t, nil)
	h.advert(5*time.Second, addrLow, 101, 2*time.Second)
	h.wantState(Backup)
	mdi := 3*2*time.Second + 156*2*time.Second/256 // adopts the new master's interval
	h.wantActs("stop Adver_Timer|remove-vips|arm Master_Down_Timer at=" + (5*time.Second + mdi).String() + " gen=3|state MASTER->BACKUP")
}

func TestRFC5798_6_4_3_EqualPriorityTieBreakOnPrimaryAddress(t *testing.T) {
	tests := []struct {
		src  netip.Addr
		want State
	}{
		{addrHigh, Backup}, // sender's address is greater: we yield
		{addrLow, Master},  // ours is greater: we stay and answer
	}
	for _, tt := range tests {
		h := masterAt100(t, nil)
		h.advert(5*time.Second, tt.src, 100, time.Second)
		h.wantState(tt.want)
		if tt.want == Master && !h.has(ActionSendAdvert) {
			t.Fatalf("master did not answer a lower advert: %v", h.acts)
		}
	}
}

func TestRFC5798_6_4_3_MasterAnswersPriorityZeroAtOnce(t *testing.T) {
	h := masterAt100(t, nil)
	h.advert(4*time.Second, addrLow, 0, time.Second)
	h.wantState(Master)
	h.wantActs("send-advert prio=100|arm Adver_Timer at=5s gen=3")
}

func TestRFC5798_6_4_3_ShutdownSendsPriorityZero(t *testing.T) {
	h := masterAt100(t, nil)
	h.step(4*time.Second, Shutdown())
	h.wantState(Stopped)
	h.wantActs("stop Adver_Timer|send-advert prio=0|remove-vips|state MASTER->STOPPED")
	h.step(5*time.Second, Startup())
	h.wantState(Backup)
}

func TestKeepalived_MasterAnswersLowerPriorityAtOnce(t *testing.T) {
	h := masterAt100(t, nil)
	h.advert(4*time.Second, addrHigh, 99, time.Second)
	h.wantState(Master)
	h.wantActs("send-advert prio=100")
}

// TestMasterAnswersSpaced: a flood of lower-priority or priority-0
// adverts, a source each, gets one immediate answer per tenth of the
// interval, not one per packet; the regular adverts go on.
func TestMasterAnswersSpaced(t *testing.T) {
	for _, prio := range []uint8{99, 0} {
		h := masterAt100(t, nil)
		answers := 0
		start := 4 * time.Second
		for i := range 1000 { // 1000 adverts in 100 ms
			src := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			h.advert(start+time.Duration(i)*100*time.Microsecond, src, prio, time.Second)
			if h.has(ActionSendAdvert) {
				answers++
			}
		}
		if answers != 1 {
			t.Errorf("priority %d: %d answers to 1000 adverts within a tenth of the interval, want 1", prio, answers)
		}
		h.advert(start+100*time.Millisecond, addrHigh, prio, time.Second)
		if !h.has(ActionSendAdvert) {
			t.Errorf("priority %d: no answer a tenth of the interval later", prio)
		}
		h.wantState(Master)
	}
}

func TestStaleTimerExpiryIsHarmless(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	old := h.in.timerGen[MasterDownTimer]
	h.advert(time.Second, addrHigh, 200, time.Second) // re-arms: old generation is stale
	if acts := h.step(4*time.Second, TimerExpired(MasterDownTimer, old)); len(acts) != 0 {
		t.Fatalf("stale expiry acted: %v", acts)
	}
	if acts := h.step(4*time.Second, TimerExpired(AdverTimer, h.in.timerGen[MasterDownTimer])); len(acts) != 0 {
		t.Fatalf("wrong-kind expiry acted: %v", acts)
	}
	h.wantState(Backup)
}

func TestKeepalived_PreemptDelay(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.PreemptDelay = 10 * time.Second })
	h.step(0, Startup())
	// A lower-priority master is heard: the delay starts and its adverts
	// are accepted as if preemption were off.
	h.advert(time.Second, addrLow, 50, time.Second)
	if st := h.in.Status(); st.PreemptAt != 11*time.Second {
		t.Fatalf("preempt at %v", st.PreemptAt)
	}
	for s := 2; s <= 10; s++ {
		h.advert(time.Duration(s)*time.Second, addrLow, 50, time.Second)
		if !h.has(ActionArmTimer) {
			t.Fatalf("at %ds the advert was not accepted", s)
		}
	}
	// After the delay, lower adverts are discarded and the timer runs out.
	h.advert(11*time.Second, addrLow, 50, time.Second)
	if len(h.acts) != 0 {
		t.Fatalf("advert after delay accepted: %v", h.acts)
	}
	h.fire(MasterDownTimer)
	h.wantState(Master)
	if h.now != 10*time.Second+h.in.masterDownInterval() {
		t.Fatalf("took over at %v", h.now)
	}
}

func TestKeepalived_PreemptDelayNotNeededWithoutMaster(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.PreemptDelay = time.Minute })
	h.step(0, Startup())
	h.fire(MasterDownTimer)
	h.wantState(Master)
}

func TestEffectivePriorityClamp(t *testing.T) {
	tests := []struct {
		base   uint8
		weight int
		want   uint8
	}{
		{100, 0, 100}, {100, 50, 150}, {100, 500, 254}, {100, -99, 1}, {100, -500, 1},
		{255, -50, 255}, // the owner ignores weights (keepalived rejects weighted trackers on it)
		{1, 253, 254},
	}
	for _, tt := range tests {
		h := newHarness(t, func(c *Config) { c.Priority = tt.base })
		h.step(0, TrackersChanged(tt.weight, false))
		if got := h.in.Status().EffectivePriority; got != tt.want {
			t.Errorf("base %d weight %d: %d, want %d", tt.base, tt.weight, got, tt.want)
		}
	}
}

func TestKeepalived_TrackerPriorityChangeAdvertisedAtOnce(t *testing.T) {
	h := masterAt100(t, nil)
	h.step(4*time.Second, TrackersChanged(-30, false))
	h.wantActs("send-advert prio=70|arm Adver_Timer at=5s gen=3")
	h.step(4*time.Second, TrackersChanged(-30, false))
	if len(h.acts) != 0 {
		t.Fatalf("unchanged priority acted: %v", h.acts)
	}
}

func TestKeepalived_TrackerFault(t *testing.T) {
	h := masterAt100(t, nil)
	h.step(4*time.Second, TrackersChanged(0, true))
	h.wantState(Fault)
	h.wantActs("stop Adver_Timer|send-advert prio=0|remove-vips|state MASTER->FAULT")
	h.advert(5*time.Second, addrLow, 10, time.Second)
	if len(h.acts) != 0 {
		t.Fatalf("faulted instance acted on advert: %v", h.acts)
	}
	h.step(6*time.Second, TrackersChanged(0, false))
	h.wantState(Backup)
	// Owner leaves Fault straight into Master, like startup.
	o := master(t, nil)
	o.step(1*time.Second, TrackersChanged(0, true))
	o.wantState(Fault)
	o.step(2*time.Second, TrackersChanged(0, false))
	o.wantState(Master)
	// Startup while faulted goes to Fault.
	f := newHarness(t, nil)
	f.step(0, TrackersChanged(0, true))
	f.step(0, Startup())
	f.wantState(Fault)
}

func TestPromotion_BackupBecomesMasterAtOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.advert(time.Second, addrHigh, 200, time.Second)
	h.step(2*time.Second, Promote())
	h.wantState(Master)
	h.wantActs("stop Master_Down_Timer|send-advert prio=255|add-vips accept=false|announce|arm Adver_Timer at=3s gen=3|state BACKUP->MASTER")
}

func TestPromotion_NeverYields(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.step(time.Second, Promote())
	for _, src := range []netip.Addr{addrLow, addrHigh} {
		h.advert(2*time.Second, src, 255, time.Second)
		h.wantState(Master)
	}
}

func TestPromotion_OwnerYieldsToAnother255(t *testing.T) {
	o := master(t, func(c *Config) { c.Primary = addrHigh })
	o.advert(time.Second, addrLow, 255, time.Second) // lower address, but a 255
	o.wantState(Backup)
	if st := o.in.Status(); st.Priority != 254 {
		t.Fatalf("yielding owner advertises %d", st.Priority)
	}
	o.advert(2*time.Second, addrLow, 255, time.Second) // stays backup while the 255 is there
	o.wantState(Backup)
	o.advert(3*time.Second, addrLow, 100, time.Second) // override cleared elsewhere
	if st := o.in.Status(); st.Priority != 255 {
		t.Fatalf("owner did not recover 255: %d", st.Priority)
	}
	o.fire(MasterDownTimer)
	o.wantState(Master)
}

func TestPromotion_ClearDoesNotFlap(t *testing.T) {
	h := newHarness(t, nil)
	h.step(0, Startup())
	h.step(time.Second, Promote())
	h.step(2*time.Second, ClearPromotion())
	h.wantState(Master)
	h.wantActs("send-advert prio=100|arm Adver_Timer at=3s gen=3")
	// Fault keeps the override; leaving fault with it goes straight to master.
	h.step(3*time.Second, Promote())
	h.step(4*time.Second, TrackersChanged(0, true))
	h.wantState(Fault)
	h.step(5*time.Second, TrackersChanged(0, false))
	h.wantState(Master)
}

func TestIgnoresOwnOtherVRIDAndOtherVersion(t *testing.T) {
	h := masterAt100(t, nil)
	h.advert(4*time.Second, addrMid, 200, time.Second) // our own address: looped back
	h.wantState(Master)
	other := &Advertisement{Version: Version3, VRID: 52, Priority: 200, Interval: time.Second}
	h.step(4*time.Second, AdvertReceived(addrHigh, other))
	v2 := &Advertisement{Version: Version2, VRID: 51, Priority: 200, Interval: time.Second}
	h.step(4*time.Second, AdvertReceived(addrHigh, v2))
	h.step(4*time.Second, AdvertReceived(addrHigh, nil))
	h.wantState(Master)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"good", func(*Config) {}, true},
		{"vrid 0", func(c *Config) { c.VRID = 0 }, false},
		{"version 4", func(c *Config) { c.Version = 4 }, false},
		{"priority 0", func(c *Config) { c.Priority = 0 }, false},
		{"v2 fractional", func(c *Config) { c.Version, c.Interval = Version2, 1500*time.Millisecond }, false},
		{"v3 half second", func(c *Config) { c.Interval = 500 * time.Millisecond }, true},
		{"no primary", func(c *Config) { c.Primary = netip.Addr{} }, false},
		{"v2 ipv6", func(c *Config) { c.Version, c.Primary = Version2, v6src }, false},
		{"owner nopreempt", func(c *Config) { c.Priority, c.NoPreempt = 255, true }, false},
		{"delay nopreempt", func(c *Config) { c.PreemptDelay, c.NoPreempt = time.Second, true }, false},
	}
	for _, tt := range tests {
		c := baseCfg()
		tt.mod(&c)
		if err := c.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.name, err)
		}
	}
}

func TestStringers(t *testing.T) {
	for _, s := range []State{Initialize, Backup, Master, Fault, Stopped, 9} {
		if s.String() == "" {
			t.Error("empty state string")
		}
	}
	evs := []Event{Startup(), Shutdown(), AdvertReceived(addrLow, &Advertisement{}), TimerExpired(AdverTimer, 1),
		TrackersChanged(1, true), Promote(), ClearPromotion(), {}}
	for _, e := range evs {
		if e.String() == "" {
			t.Error("empty event string")
		}
	}
}

// keepalived's vrrp_sync_group: members follow each other. A backup told
// that another member became master takes over at once; a master told that
// another went back steps down without a priority-0 advert.
func TestSyncGroupEvents(t *testing.T) {
	cfg := Config{VRID: 1, Version: Version3, Priority: 100, Interval: time.Second, Primary: netip.MustParseAddr("192.0.2.1")}
	in, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in.Step(0, Startup())
	if in.State() != Backup {
		t.Fatalf("after startup: %v", in.State())
	}
	acts := in.Step(time.Millisecond, SyncMaster())
	if in.State() != Master || !hasAction(acts, ActionAddVIPs) || !hasAction(acts, ActionSendAdvert) {
		t.Fatalf("SyncMaster from Backup: state %v, actions %v", in.State(), acts)
	}
	acts = in.Step(2*time.Millisecond, SyncMaster())
	if len(acts) != 0 {
		t.Errorf("SyncMaster on a master: %v, want nothing", acts)
	}
	acts = in.Step(3*time.Millisecond, SyncBackup())
	if in.State() != Backup || !hasAction(acts, ActionRemoveVIPs) {
		t.Fatalf("SyncBackup from Master: state %v, actions %v", in.State(), acts)
	}
	for _, a := range acts {
		if a.Kind == ActionSendAdvert {
			t.Errorf("SyncBackup sent an advert (priority %d); only a stopping master sends priority 0", a.Priority)
		}
	}
	if in.Status().MasterDownAt == 0 {
		t.Error("SyncBackup did not arm the master-down timer")
	}
}

func hasAction(acts []Action, k ActionKind) bool {
	for _, a := range acts {
		if a.Kind == k {
			return true
		}
	}
	return false
}
