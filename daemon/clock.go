package daemon

import "time"

// clock is the loop's time: the protocol clock (runtime.now), the wall
// clock of status and promotions, and the timers of the loop's wake-up,
// promotion expiry, conflict summaries and announcement rounds. The daemon
// runs on realClock; the loop tests run on a fake one they advance by hand
// (fakeclock_test.go).
type clock interface {
	Now() time.Time
	// AfterFunc runs f in its own goroutine after d, as time.AfterFunc.
	AfterFunc(d time.Duration, f func()) stopper
	// NewTimer is a stopped timer that sends on C when it fires.
	NewTimer() wakeTimer
}

// stopper is a timer of AfterFunc.
type stopper interface{ Stop() bool }

// wakeTimer is the loop's wake-up timer, as a time.Timer.
type wakeTimer interface {
	C() <-chan time.Time
	Reset(d time.Duration) bool
	Stop() bool
}

// realClock is the clock of package time.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

func (realClock) NewTimer() wakeTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return realTimer{t}
}

type realTimer struct{ *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.Timer.C }
