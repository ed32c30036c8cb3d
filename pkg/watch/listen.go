package watch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Live capture: OpenLive (live_linux.go) opens packet sockets and delivers
// Frames; Listen runs a capture for a while and hands each frame to the
// caller. Unlike the rest of the package these do I/O and read the clock.

// ErrLiveUnsupported is returned by OpenLive where packet sockets do not
// exist (every OS but Linux).
var ErrLiveUnsupported = errors.New("live capture is not supported on this OS (Linux only); read a tcpdump capture with --file")

// LiveSource is a running capture: frames until Close.
type LiveSource interface {
	Frames() <-chan Frame
	Errors() <-chan error
	Close() error
}

// MaxFreeListen caps how far a listen stretches to hear three intervals of
// the slowest router (VRRPv2 allows 255 s).
const MaxFreeListen = 3 * 255 * time.Second

// ThreeIntervals is how long a listen must last for every router heard so
// far to have had three chances to speak: three of the longest interval in
// t, at most MaxFreeListen.
func ThreeIntervals(t *Table) time.Duration { return min(3*t.MaxInterval(), MaxFreeListen) }

// Interfaces returns the named interface, or every interface that is up
// and not a loopback when name is empty.
func Interfaces(name string) ([]string, error) {
	if name != "" {
		if _, err := net.InterfaceByName(name); err != nil {
			return nil, fmt.Errorf("interface %s: %w", name, err)
		}
		return []string{name}, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagLoopback == 0 {
			out = append(out, ifi.Name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no interface is up; name one with --interface")
	}
	return out, nil
}

// ListenConfig is one Listen.
type ListenConfig struct {
	// Source is the capture (OpenLive's).
	Source LiveSource
	// Duration stops the listen once it has passed; 0 listens until the
	// context ends or OnFrame says stop.
	Duration time.Duration
	// Extend, when set, is asked once Duration has passed, with how long
	// the listen has lasted: a longer answer is how long it must last in
	// all (watch --free's three intervals of the slowest router).
	Extend func(listened time.Duration) time.Duration
	// OnFrame receives each frame; true stops the listen.
	OnFrame func(Frame) (stop bool)
	// Tick, when positive, calls OnTick that often.
	Tick   time.Duration
	OnTick func()
}

// ListenResult is how a Listen ended.
type ListenResult struct {
	// Listened is how long it lasted.
	Listened time.Duration
	// Interrupted is set when the context ended it (Ctrl-C).
	Interrupted bool
}

// Listen reads c.Source until the context ends, the duration passes (and
// is not extended), OnFrame says stop or the capture fails.
func Listen(ctx context.Context, c ListenConfig) (res ListenResult, err error) {
	start := time.Now()
	defer func() { res.Listened = time.Since(start) }()
	var timer *time.Timer
	var timeout <-chan time.Time
	if c.Duration > 0 {
		timer = time.NewTimer(c.Duration)
		defer timer.Stop()
		timeout = timer.C
	}
	var tick <-chan time.Time
	if c.Tick > 0 && c.OnTick != nil {
		tk := time.NewTicker(c.Tick)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-ctx.Done():
			return ListenResult{Interrupted: true}, nil
		case <-timeout:
			if c.Extend != nil {
				if need := c.Extend(time.Since(start)); time.Since(start) < need {
					timer.Reset(need - time.Since(start))
					continue
				}
			}
			return ListenResult{}, nil
		case f := <-c.Source.Frames():
			if c.OnFrame != nil && c.OnFrame(f) {
				return ListenResult{}, nil
			}
		case err := <-c.Source.Errors():
			return ListenResult{}, err
		case <-tick:
			c.OnTick()
		}
	}
}
