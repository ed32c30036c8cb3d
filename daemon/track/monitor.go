package track

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/pkg/config"
)

// DefaultFilePoll is how often track files are read.
const DefaultFilePoll = 250 * time.Millisecond

// Probe runs a vrrp_script once and says whether it succeeded, and how it
// ended. Options.Probe replaces the real runs in tests.
type Probe func(ctx context.Context) (ok bool, detail string)

// Options configure a Monitor.
type Options struct {
	// Logger receives tracker changes; nil discards.
	Logger *slog.Logger
	// Runner prepares and runs vrrp_script commands. Required when an
	// instance tracks a script, unless Probe is set.
	Runner *scripts.Runner
	// Probe, when set, is called instead of running a script (tests).
	Probe func(ctx context.Context, s *config.Script) (ok bool, detail string)
	// FilePoll is the track_file polling period (default DefaultFilePoll).
	FilePoll time.Duration
	// Reload is set when the Monitor replaces another after a
	// configuration reload: init_file then leaves existing files alone
	// even with overwrite, as keepalived does.
	Reload bool
	// ProcScan is the /proc scanning period when process events are
	// unavailable (default DefaultProcScan).
	ProcScan time.Duration
	// ProcScanOnly scans /proc even where process events would answer
	// (tests of the fallback).
	ProcScanOnly bool
	// Previous carries states over a reload (the old Monitor's Snapshot):
	// a script keeps its status, so that a reload does not move
	// mastership. Interfaces and files are read afresh.
	Previous map[Key]State
	// Interfaces are more interfaces to follow than cfg names: the
	// daemon's VMACs (use_vmac), whose names are made at start.
	Interfaces []string
}

// Monitor runs the trackers a configuration uses and reports their changes.
type Monitor struct {
	opts    Options
	log     *slog.Logger
	cfg     *config.Config
	scripts []*config.Script
	files   []*config.TrackFile
	procs   []*config.TrackProcess
	ifaces  []string
	// ifDelays are the interfaces' debounce delays.
	ifDelays map[string]config.IfDelay

	mu     sync.Mutex
	states map[Key]State
	// dropped holds the scripts the Runner refused, with why: like
	// keepalived, the instances that track them run without them.
	dropped    map[Key]string
	pending    []Event
	pendingIdx map[Key]int
	ready      chan struct{}
	procMode   string

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Monitor for the trackers that cfg's instances use (unused
// vrrp_script and track_file blocks are left out, as keepalived does).
func New(cfg *config.Config, opts Options) (*Monitor, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FilePoll <= 0 {
		opts.FilePoll = DefaultFilePoll
	}
	if opts.ProcScan <= 0 {
		opts.ProcScan = DefaultProcScan
	}
	m := &Monitor{opts: opts, log: opts.Logger, cfg: cfg, states: map[Key]State{}, dropped: map[Key]string{}, pendingIdx: map[Key]int{}, ready: make(chan struct{}, 1)}
	byScript := map[string]*config.Script{}
	for _, s := range cfg.Scripts {
		byScript[s.Name] = s
	}
	byFile := map[string]*config.TrackFile{}
	for _, f := range cfg.TrackFiles {
		byFile[f.Name] = f
	}
	byProc := map[string]*config.TrackProcess{}
	for _, p := range cfg.TrackProcesses {
		byProc[p.Name] = p
	}
	m.ifDelays = IfDelays(cfg, m.log)
	for _, k := range Used(cfg) {
		switch k.Kind {
		case KindScript:
			s, ok := byScript[k.Name]
			if !ok {
				return nil, fmt.Errorf("track_script %s: no vrrp_script of that name", k.Name)
			}
			m.scripts = append(m.scripts, s)
		case KindFile:
			f, ok := byFile[k.Name]
			if !ok {
				return nil, fmt.Errorf("track_file %s: no track_file block of that name", k.Name)
			}
			m.files = append(m.files, f)
		case KindProcess:
			p, ok := byProc[k.Name]
			if !ok {
				return nil, fmt.Errorf("track_process %s: no vrrp_track_process of that name", k.Name)
			}
			m.procs = append(m.procs, p)
		case KindInterface:
			m.ifaces = append(m.ifaces, k.Name)
		}
	}
	for _, n := range opts.Interfaces {
		if !slices.Contains(m.ifaces, n) {
			m.ifaces = append(m.ifaces, n)
		}
	}
	if len(m.scripts) > 0 && opts.Runner == nil && opts.Probe == nil {
		return nil, errors.New("track: vrrp_scripts are tracked but Options.Runner is nil")
	}
	return m, nil
}

// Start sets every tracker's initial state (init_file, first read of track
// files, interface states, process counts, script states from Previous or
// init_fail) and
// starts the trackers. Call it in the daemon's network namespace: the
// interface subscription stays in the namespace it was opened in. Start
// returns an error when interfaces cannot be watched; the trackers already
// started are stopped.
func (m *Monitor) Start(ctx context.Context) error {
	ctx, m.cancel = context.WithCancel(ctx)
	if len(m.files) > 0 {
		m.startFiles(ctx)
	}
	if len(m.ifaces) > 0 {
		if err := m.startInterfaces(ctx, m.ifaces); err != nil {
			m.Stop()
			return fmt.Errorf("track_interface: %w", err)
		}
	}
	if len(m.procs) > 0 {
		if err := m.startProcesses(ctx); err != nil {
			m.Stop()
			return fmt.Errorf("track_process: %w", err)
		}
	}
	for _, s := range m.scripts {
		m.startScript(ctx, s)
	}
	return nil
}

// Stop stops every tracker and waits for them; a script that is running is
// killed.
func (m *Monitor) Stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
}

// Ready is signalled (it has a buffer of one) whenever events are pending.
func (m *Monitor) Ready() <-chan struct{} { return m.ready }

// Drain returns the pending events, oldest first, and clears them. Events
// are coalesced per tracker: one tracker has at most one pending event,
// from the state before its first undrained change to its latest state; a
// tracker that came back to where it was is left out.
func (m *Monitor) Drain() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, ev := range m.pending {
		if !ev.State.same(ev.Prev) {
			out = append(out, ev)
		}
	}
	m.pending = nil
	clear(m.pendingIdx)
	return out
}

// State returns a tracker's current state.
func (m *Monitor) State(k Key) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[k]
}

// Snapshot returns every tracker's current state.
func (m *Monitor) Snapshot() map[Key]State {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Key]State, len(m.states))
	for k, v := range m.states {
		out[k] = v
	}
	return out
}

// Effective computes an instance's priority from its base priority and
// its trackers' current states (see the package function Effective).
// Dropped scripts count for nothing.
func (m *Monitor) Effective(base int, refs []Ref) Priority {
	m.mu.Lock()
	tracked := make([]Tracked, 0, len(refs))
	for _, r := range refs {
		if _, gone := m.dropped[r.Key]; gone {
			continue
		}
		tracked = append(tracked, Tracked{Ref: r, State: m.states[r.Key]})
	}
	m.mu.Unlock()
	return Effective(base, tracked...)
}

// Dropped returns the vrrp_scripts the Runner refused (missing, not
// executable, unsafe, a user that does not exist), with why. keepalived
// drops such a script from the instances that track it, and so does the
// Monitor: they run without it.
func (m *Monitor) Dropped() map[Key]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Key]string, len(m.dropped))
	for k, v := range m.dropped {
		out[k] = v
	}
	return out
}

func (m *Monitor) drop(k Key, why string) {
	m.mu.Lock()
	m.dropped[k] = why
	m.mu.Unlock()
}

// initState sets a tracker's state without an event (before Start
// returns, the daemon reads states, not events).
func (m *Monitor) initState(k Key, st State) {
	st.Since = time.Now()
	m.mu.Lock()
	m.states[k] = st
	m.mu.Unlock()
}

// set records a tracker's new state and queues an event when it changed.
// It never blocks on the daemon. It reports whether the state changed.
func (m *Monitor) set(k Key, st State) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, known := m.states[k]
	if known && old.same(st) {
		old.Detail = st.Detail
		m.states[k] = old
		return false
	}
	st.Since = time.Now()
	m.states[k] = st
	if i, ok := m.pendingIdx[k]; ok {
		m.pending[i].State = st
	} else {
		m.pendingIdx[k] = len(m.pending)
		m.pending = append(m.pending, Event{Key: k, State: st, Prev: old})
	}
	select {
	case m.ready <- struct{}{}:
	default:
	}
	return true
}
