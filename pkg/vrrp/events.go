package vrrp

import (
	"fmt"
	"net/netip"
	"time"
)

// State is an instance's protocol state. Initialize, Backup and Master are
// RFC 5798's; Fault (a tracker or the interface is down) and Stopped (after
// Shutdown) are keepalived's.
type State uint8

// Instance states.
const (
	Initialize State = iota
	Backup
	Master
	Fault
	Stopped
)

// String returns the state in keepalived's upper-case spelling.
func (s State) String() string {
	switch s {
	case Initialize:
		return "INIT"
	case Backup:
		return "BACKUP"
	case Master:
		return "MASTER"
	case Fault:
		return "FAULT"
	case Stopped:
		return "STOPPED"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// TimerKind names one of the instance's two timers (RFC 5798 §6.2).
type TimerKind uint8

// Timers: a master runs AdverTimer, a backup MasterDownTimer. HoldTimer
// bounds how long a new master waits for the master it displaces to
// release the VIPs (Config.Handover).
const (
	AdverTimer TimerKind = iota + 1
	MasterDownTimer
	HoldTimer
)

// String returns the RFC name of the timer.
func (k TimerKind) String() string {
	switch k {
	case AdverTimer:
		return "Adver_Timer"
	case MasterDownTimer:
		return "Master_Down_Timer"
	case HoldTimer:
		return "Hold_Timer"
	}
	return fmt.Sprintf("Timer(%d)", uint8(k))
}

// EventKind says what happened.
type EventKind uint8

// Event kinds; see the constructors for the fields each one uses.
const (
	EventStartup EventKind = iota + 1
	EventShutdown
	EventAdvert
	EventTimer
	EventTrack
	EventPromote
	EventClearPromote
	EventSyncMaster
	EventSyncBackup
)

// Event is one input to Instance.Step. Build it with the constructors below.
type Event struct {
	Kind EventKind
	// Advert and Src: EventAdvert. Advert must have passed Decode and
	// Expect.Check; Step does not keep the pointer.
	Advert *Advertisement
	Src    netip.Addr
	// Timer and Gen: EventTimer, copied from the ArmTimer action.
	Timer TimerKind
	Gen   uint64
	// Weight and Fault: EventTrack. Weight is the sum of the weights of all
	// trackers as they stand now (not a delta), Fault whether any
	// weight-0 tracker (or the interface) is down.
	Weight int
	Fault  bool
}

// Startup starts the instance (RFC 5798 §6.4.1).
func Startup() Event { return Event{Kind: EventStartup} }

// Shutdown stops the instance; a master sends priority 0 first.
func Shutdown() Event { return Event{Kind: EventShutdown} }

// AdvertReceived delivers a validated advertisement from src.
func AdvertReceived(src netip.Addr, a *Advertisement) Event {
	return Event{Kind: EventAdvert, Src: src, Advert: a}
}

// TimerExpired reports that the timer armed with generation gen fired.
func TimerExpired(k TimerKind, gen uint64) Event {
	return Event{Kind: EventTimer, Timer: k, Gen: gen}
}

// TrackersChanged reports the current tracker state.
func TrackersChanged(weight int, fault bool) Event {
	return Event{Kind: EventTrack, Weight: weight, Fault: fault}
}

// Promote sets the sticky priority override: this instance wins every
// election until ClearPromotion.
func Promote() Event { return Event{Kind: EventPromote} }

// ClearPromotion removes the override.
func ClearPromotion() Event { return Event{Kind: EventClearPromote} }

// SyncMaster tells a Backup member of a sync group that another member
// became master: it takes over at once, as keepalived's
// vrrp_sync_group does. Other states ignore it.
func SyncMaster() Event { return Event{Kind: EventSyncMaster} }

// SyncBackup tells a Master member of a sync group that another member
// went back to backup: it steps down (without a priority-0 advert, as it
// is not leaving) and waits Master_Down_Interval like any backup. Other
// states ignore it.
func SyncBackup() Event { return Event{Kind: EventSyncBackup} }

// String renders the event for traces.
func (e Event) String() string {
	switch e.Kind {
	case EventStartup:
		return "startup"
	case EventShutdown:
		return "shutdown"
	case EventAdvert:
		if e.Advert == nil {
			return "advert(nil) from " + e.Src.String()
		}
		return fmt.Sprintf("advert prio=%d intvl=%v from %v", e.Advert.Priority, e.Advert.Interval, e.Src)
	case EventTimer:
		return fmt.Sprintf("timer %v gen=%d", e.Timer, e.Gen)
	case EventTrack:
		return fmt.Sprintf("trackers weight=%d fault=%t", e.Weight, e.Fault)
	case EventPromote:
		return "promote"
	case EventClearPromote:
		return "clear-promotion"
	case EventSyncMaster:
		return "sync-master"
	case EventSyncBackup:
		return "sync-backup"
	}
	return fmt.Sprintf("Event(%d)", uint8(e.Kind))
}

// ActionKind says what the caller must do.
type ActionKind uint8

// Action kinds, performed by the caller in the order returned.
const (
	// ActionSendAdvert: send an advertisement with Priority.
	ActionSendAdvert ActionKind = iota + 1
	// ActionAddVIPs: install the virtual addresses; Accept says whether
	// they should accept traffic addressed to them (accept mode or owner).
	ActionAddVIPs
	// ActionRemoveVIPs: remove the virtual addresses.
	ActionRemoveVIPs
	// ActionAnnounce: send gratuitous ARP (IPv4) or unsolicited neighbour
	// advertisements (IPv6) for the VIPs.
	ActionAnnounce
	// ActionStateChange: report the transition From -> To.
	ActionStateChange
	// ActionArmTimer: (re)arm Timer to fire at At; report it back with Gen.
	ActionArmTimer
	// ActionStopTimer: Timer is no longer needed (an expiry would be stale
	// anyway; this only saves a wake-up).
	ActionStopTimer
)

// Action is one output of Instance.Step.
type Action struct {
	Kind     ActionKind
	Priority uint8         // SendAdvert
	Dst      netip.Addr    // SendAdvert: only to this router (a handover release); zero: the usual destinations
	Accept   bool          // AddVIPs
	From, To State         // StateChange
	Timer    TimerKind     // ArmTimer, StopTimer
	At       time.Duration // ArmTimer
	Gen      uint64        // ArmTimer
}

// String renders the action for traces.
func (a Action) String() string {
	switch a.Kind {
	case ActionSendAdvert:
		if a.Dst.IsValid() {
			return fmt.Sprintf("send-advert prio=%d dst=%v", a.Priority, a.Dst)
		}
		return fmt.Sprintf("send-advert prio=%d", a.Priority)
	case ActionAddVIPs:
		return fmt.Sprintf("add-vips accept=%t", a.Accept)
	case ActionRemoveVIPs:
		return "remove-vips"
	case ActionAnnounce:
		return "announce"
	case ActionStateChange:
		return fmt.Sprintf("state %v->%v", a.From, a.To)
	case ActionArmTimer:
		return fmt.Sprintf("arm %v at=%v gen=%d", a.Timer, a.At, a.Gen)
	case ActionStopTimer:
		return fmt.Sprintf("stop %v", a.Timer)
	}
	return fmt.Sprintf("Action(%d)", uint8(a.Kind))
}
