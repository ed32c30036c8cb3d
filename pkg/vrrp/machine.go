package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Config is the static configuration of one VRRP instance, as far as the
// state machine needs it. Packet-level settings (auth, VIP list) live with
// the caller.
type Config struct {
	VRID    uint8
	Version Version
	// Priority is the base priority: 1..254, or 255 for the address owner.
	Priority uint8
	// Interval is the Advertisement_Interval; whole seconds for VRRPv2,
	// a multiple of 10ms for VRRPv3.
	Interval time.Duration
	// Primary is this instance's primary address: the source of its adverts
	// and the tie-breaker between equal priorities (RFC 5798 §6.4.3).
	Primary netip.Addr
	// NoPreempt keeps a higher-priority backup from taking over from a
	// lower-priority master (RFC 5798 Preempt_Mode false; keepalived
	// nopreempt). Not allowed for the address owner.
	NoPreempt bool
	// PreemptDelay postpones preemption; see the Instance documentation.
	PreemptDelay time.Duration
	// Accept is RFC 5798 Accept_Mode: whether a non-owner master accepts
	// packets addressed to the VIPs. Reported on ActionAddVIPs.
	Accept bool
	// Handover, when positive, makes planned handovers free of dual
	// ownership (see the Instance documentation): a master that yields
	// sends a priority-0 advert once its VIPs are gone, and a node that
	// displaces a live master (promotion, preemption) takes the VIPs when
	// that release arrives, or after Handover at the latest. 0 keeps the
	// plain RFC behaviour (take the VIPs at once).
	Handover time.Duration
	// DownTimerAdverts is how many of the master's intervals
	// Master_Down_Interval counts before its Skew_Time (keepalived's
	// down_timer_adverts, 1..100); 0 means RFC 5798's 3.
	DownTimerAdverts int
	// LowerPrioNoAdvert: a master that hears a lower priority does not
	// answer it with an advert (keepalived's lower_prio_no_advert).
	LowerPrioNoAdvert bool
	// HigherPrioSendAdvert: a master that hears a higher priority sends
	// one advert of its own before it steps down (keepalived's
	// higher_prio_send_advert).
	HigherPrioSendAdvert bool
}

// Validate reports configuration errors the state machine cannot work with,
// following keepalived's rules where they exist.
func (c *Config) Validate() error {
	var errs []error
	if c.VRID == 0 {
		errs = append(errs, errors.New("vrid must be 1..255"))
	}
	if c.Version != Version2 && c.Version != Version3 {
		errs = append(errs, fmt.Errorf("version %d: must be 2 or 3", c.Version))
	}
	if c.Priority == 0 {
		errs = append(errs, errors.New("priority must be 1..255"))
	}
	if _, err := encodeInterval(c.Version, c.Interval); err != nil && c.Version != 0 {
		errs = append(errs, fmt.Errorf("interval: %w", err))
	}
	if !c.Primary.IsValid() {
		errs = append(errs, errors.New("primary address is required"))
	} else if c.Version == Version2 && FamilyOf(c.Primary) != IPv4 {
		errs = append(errs, errors.New("VRRPv2 is IPv4 only"))
	}
	if c.NoPreempt && c.Priority == PriorityOwner {
		errs = append(errs, errors.New("nopreempt is meaningless for the address owner"))
	}
	if c.DownTimerAdverts < 0 || c.DownTimerAdverts > 100 {
		errs = append(errs, fmt.Errorf("down_timer_adverts %d: must be 1..100", c.DownTimerAdverts))
	}
	if c.Handover < 0 {
		errs = append(errs, errors.New("handover hold must not be negative"))
	}
	if c.PreemptDelay < 0 || (c.PreemptDelay > 0 && c.NoPreempt) {
		errs = append(errs, errors.New("preempt_delay needs preemption and must not be negative"))
	}
	return errors.Join(errs...)
}

// Instance is the pure state machine of one VRRP instance (one VRID on one
// interface and family). It is not safe for concurrent use; the daemon
// serialises events per instance.
//
// Behaviour beyond the RFC 5798 text, chosen after keepalived 2.2.7:
//
//   - A master that hears a lower-priority advert answers with an advert at
//     once (keepalived's default; RFC: discard). A healed partition then
//     converges in one delivery instead of one interval. These answers (and
//     those to another router's priority 0) are spaced by a tenth of the
//     interval: keepalived answers every one, so a flood of lower-priority
//     adverts from random sources doubled itself on the wire; a real router
//     sends once per interval and still gets every answer. The displaced
//     master's release (Handover) is always answered.
//   - A master whose advertised priority changes (trackers, promotion) sends
//     an advert at once rather than at the next interval.
//   - preempt_delay: the delay starts when a backup first hears a
//     lower-priority master since it entered Backup; until it elapses such
//     adverts are treated as if preemption were off (they refresh the
//     Master_Down_Timer). Afterwards they are discarded, so the backup takes
//     over one Master_Down_Interval after the last accepted advert. With no
//     master at all there is nothing to delay.
//   - Effective priority is base + tracker weight clamped to 1..254. The
//     address owner (base 255) ignores weights, as keepalived refuses
//     weighted trackers on an owner; a weight-0 tracker still faults it.
//   - Fault: a master in Fault sends priority 0 and drops its VIPs; leaving
//     Fault is like startup.
//   - Two 255s: an owner master hearing another 255 yields (it advertises
//     254 until it hears a lower priority or its Master_Down_Timer fires),
//     as keepalived does for duplicate owners. This is also what lets a
//     promotion win against an owner.
//   - A backup acts on a priority-0 advert only from the master it follows
//     (or when it follows none). RFC 5798 does not say; a delayed or
//     duplicated resignation arriving after the successor's first advert
//     would otherwise make a second backup take over needlessly (the
//     simulator found this).
//   - Adverts from our own primary address (multicast loopback) and adverts
//     of another VRID or version are ignored.
//
// The sticky promotion (Promote) makes the instance advertise 255 and never
// yield to any advert; a backup or the instance leaving Fault becomes master
// at once, before the old master resigns (it steps down when it hears the
// 255, RFC 5798 §6.4.3), so there is no window without a master. Clearing
// the override makes the master advertise its ordinary priority; it stays
// master unless a backup that may preempt has a higher priority. Promoting
// two instances of one VRID is an operator error (both stay master); the
// CLI must clear the override elsewhere first.
type Instance struct {
	cfg Config

	state      State
	weight     int
	fault      bool
	override   bool
	ownerYield bool

	masterAdverInt time.Duration // RFC Master_Adver_Interval
	masterAddr     netip.Addr    // last master heard (or us)
	masterPrio     uint8

	preemptArmed bool
	preemptAt    time.Duration

	// pending: Master, but the VIPs wait for holdFrom's release (Handover).
	pending  bool
	holdFrom netip.Addr

	gen      uint64    // last timer generation handed out
	timerGen [4]uint64 // current generation per TimerKind; 0 = not armed
	timerAt  [4]time.Duration

	// answered, lastAnswer: when the master last answered an advert at
	// once (answerDue); lowerHeard counts the lower priorities answered
	// (with or without an advert: LowerPrioNoAdvert).
	answered   bool
	lastAnswer time.Duration
	lowerHeard uint64

	// startupUntil: no Master_Down_Timer expires before startupUntil
	// plus its interval (DelayStartup).
	startupUntil time.Duration

	now  time.Duration
	acts []Action
}

// New returns an instance in Initialize. It does not validate cfg beyond
// what it needs; call Config.Validate first.
func New(cfg Config) (*Instance, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vrrp instance %d: %w", cfg.VRID, err)
	}
	cfg.Primary = cfg.Primary.Unmap()
	return &Instance{cfg: cfg, masterAdverInt: cfg.Interval, acts: make([]Action, 0, 8)}, nil
}

// Config returns the instance's configuration.
func (in *Instance) Config() Config { return in.cfg }

// State returns the current state.
func (in *Instance) State() State { return in.state }

// Step feeds one event at time now and returns the actions to perform, in
// order. The returned slice is reused by the next Step call; copy it to keep
// it. now must not go backwards.
func (in *Instance) Step(now time.Duration, ev Event) []Action {
	in.acts = in.acts[:0]
	if now > in.now {
		in.now = now
	}
	switch ev.Kind {
	case EventStartup:
		in.onStartup()
	case EventShutdown:
		in.onShutdown()
	case EventAdvert:
		in.onAdvert(ev.Src, ev.Advert)
	case EventTimer:
		in.onTimer(ev.Timer, ev.Gen)
	case EventTrack:
		in.onTrack(ev.Weight, ev.Fault)
	case EventPromote:
		in.onPromote(true)
	case EventClearPromote:
		in.onPromote(false)
	case EventSyncMaster:
		if in.state == Backup {
			in.becomeMaster(false)
		}
	case EventSyncBackup:
		if in.state == Master {
			in.leaveMaster(false, netip.Addr{})
			in.enterBackup()
		}
	}
	return in.acts
}

// effective is base + tracker weights clamped to 1..254; the owner stays at
// 255 unless it is yielding to another 255.
func (in *Instance) effective() uint8 {
	if in.cfg.Priority == PriorityOwner {
		if in.ownerYield {
			return PriorityOwner - 1
		}
		return PriorityOwner
	}
	p := int(in.cfg.Priority) + in.weight
	return uint8(min(max(p, 1), PriorityOwner-1))
}

// priority is what the instance advertises and compares with: 255 while
// promoted.
func (in *Instance) priority() uint8 {
	if in.override {
		return PriorityOwner
	}
	return in.effective()
}

// skew is the instance's Skew_Time at the priority it advertises.
func (in *Instance) skew() time.Duration {
	return SkewTime(in.cfg.Version, int(in.priority()), in.masterAdverInt)
}

// masterDownInterval is the instance's Master_Down_Interval, with
// DownTimerAdverts intervals.
func (in *Instance) masterDownInterval() time.Duration {
	n := in.cfg.DownTimerAdverts
	if n == 0 || n == 3 {
		return MasterDownInterval(in.cfg.Version, int(in.priority()), in.masterAdverInt)
	}
	return time.Duration(n)*in.masterAdverInt + SkewTime(in.cfg.Version, int(in.priority()), in.masterAdverInt)
}

// DelayStartup is keepalived's vrrp_startup_delay (vrrp_daemon.c,
// start_vrrp; vrrp_scheduler.c, vrrp_init_instance_sands): until the
// protocol time until, the instance sends nothing and takes no VIPs. It
// enters Backup at Startup as usual (the address owner too, which would
// otherwise become master at once), and every Master_Down_Timer armed
// before until runs from until: a backup that hears no master takes over
// at until plus its Master_Down_Interval (the owner at until), one that
// hears a master follows it. Call it before Startup.
func (in *Instance) DelayStartup(until time.Duration) { in.startupUntil = until }

// delaying reports whether the startup delay still runs.
func (in *Instance) delaying() bool { return in.now < in.startupUntil }

// armDown arms the Master_Down_Timer d from now, or from the end of the
// startup delay while it runs.
func (in *Instance) armDown(d time.Duration) {
	if in.delaying() {
		d += in.startupUntil - in.now
	}
	in.arm(MasterDownTimer, d)
}

// LowerHeard counts the lower priorities a master heard and answered
// (an advert at once, unless LowerPrioNoAdvert), spaced as answerDue
// spaces them: the daemon re-announces and notifies on each.
func (in *Instance) LowerHeard() uint64 { return in.lowerHeard }

// SkewTime is RFC 5798 §6.1's Skew_Time of a router that advertises with
// priority every interval: (256 − priority) × interval / 256. VRRPv2 uses
// RFC 3768 §6.1's seconds-based form, (256 − priority) / 256 seconds,
// which ignores the interval. The one definition of the formula in hactl.
func SkewTime(v Version, priority int, interval time.Duration) time.Duration {
	p := time.Duration(256 - priority)
	if v == Version2 {
		return p * time.Second / 256
	}
	return p * interval / 256
}

// MasterDownInterval is RFC 5798 §6.1's Master_Down_Interval, 3 ×
// interval + SkewTime: how long a backup that advertises with priority
// waits before it takes over from a master that advertises every
// interval and has fallen silent.
func MasterDownInterval(v Version, priority int, interval time.Duration) time.Duration {
	return 3*interval + SkewTime(v, priority, interval)
}

// Status is a snapshot of an instance for status displays and tests.
type Status struct {
	State             State
	BasePriority      uint8
	EffectivePriority uint8 // base + trackers (clamped), before any override
	Priority          uint8 // what is advertised: 255 while promoted
	Override          bool
	Fault             bool
	Accept            bool
	MasterAddr        netip.Addr // current master as far as we know; our own primary when master
	MasterPriority    uint8
	MasterAdverInt    time.Duration
	MasterDownAt      time.Duration // 0 unless the Master_Down_Timer is armed
	PreemptAt         time.Duration // 0 unless a preempt_delay is running
	// Pending: Master, waiting (at most Config.Handover) for the displaced
	// master's release before taking the VIPs.
	Pending bool
}

// Status returns a snapshot.
func (in *Instance) Status() Status {
	s := Status{
		State: in.state, BasePriority: in.cfg.Priority, EffectivePriority: in.effective(),
		Priority: in.priority(), Override: in.override, Fault: in.fault, Accept: in.accept(),
		MasterAddr: in.masterAddr, MasterPriority: in.masterPrio, MasterAdverInt: in.masterAdverInt,
		Pending: in.pending,
	}
	if in.timerGen[MasterDownTimer] != 0 {
		s.MasterDownAt = in.timerAt[MasterDownTimer]
	}
	if in.preemptArmed {
		s.PreemptAt = in.preemptAt
	}
	return s
}

// accept reports whether VIPs accept traffic: Accept_Mode, or the owner.
func (in *Instance) accept() bool { return in.cfg.Accept || in.cfg.Priority == PriorityOwner }

func (in *Instance) emit(a Action) { in.acts = append(in.acts, a) }

func (in *Instance) setState(to State) {
	if to != in.state {
		in.emit(Action{Kind: ActionStateChange, From: in.state, To: to})
		in.state = to
	}
}

// arm (re)arms timer k at now+d under a fresh generation, making any
// earlier expiry of k stale.
func (in *Instance) arm(k TimerKind, d time.Duration) {
	in.gen++
	in.timerGen[k], in.timerAt[k] = in.gen, in.now+d
	in.emit(Action{Kind: ActionArmTimer, Timer: k, At: in.now + d, Gen: in.gen})
}

func (in *Instance) stop(k TimerKind) {
	if in.timerGen[k] != 0 {
		in.timerGen[k] = 0
		in.emit(Action{Kind: ActionStopTimer, Timer: k})
	}
}

func (in *Instance) sendAdvert(p uint8) {
	in.emit(Action{Kind: ActionSendAdvert, Priority: p})
}
