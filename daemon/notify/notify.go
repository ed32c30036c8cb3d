package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/pkg/config"
)

// Defaults of Options.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultQueueLen = 8
)

// Kind says whether a change is an instance's or a sync group's; its value
// is notify's first argument.
type Kind string

// The kinds.
const (
	Instance Kind = "INSTANCE"
	Group    Kind = "GROUP"
)

// State is the state entered; its value is notify's third argument.
type State string

// The states that have notifications, and keepalived's events that are
// notified as if they were states (vrrp_notify.c, notify_fifo).
const (
	Master  State = "MASTER"
	Backup  State = "BACKUP"
	Fault   State = "FAULT"
	Stop    State = "STOP"
	Deleted State = "DELETED"
	// MasterRxLowerPri: a master heard a lower priority (not a
	// resignation); it runs notify_master_rx_lower_pri, no arguments.
	MasterRxLowerPri State = "MASTER_RX_LOWER_PRI"
	// MasterPriority and BackupPriority: the effective priority changed
	// (notify_priority_changes) while master, or in any other state; FIFO
	// and events only.
	MasterPriority State = "MASTER_PRIORITY"
	BackupPriority State = "BACKUP_PRIORITY"
)

// runsScripts reports whether s runs scripts: the state changes and
// MASTER_RX_LOWER_PRI; the priority changes only go to the FIFOs and
// the event stream.
func (s State) runsScripts() bool {
	switch s {
	case Master, Backup, Fault, Stop, Deleted, MasterRxLowerPri:
		return true
	}
	return false
}

// Change is one state change to notify.
type Change struct {
	Kind Kind
	Name string
	// State is the state entered.
	State State
	// Priority is the instance's effective priority; groups always
	// report 0, as in keepalived.
	Priority int
	// Replay restates a state that did not change
	// (fifo_write_vrrp_states_on_reload): FIFOs and events only.
	Replay bool
}

// Args are the arguments notify and notify_master_dir scripts receive.
func (c Change) Args() []string {
	p := c.Priority
	if c.Kind == Group {
		p = 0
	}
	return []string{string(c.Kind), c.Name, string(c.State), strconv.Itoa(p)}
}

// Target is the notification configuration of one instance or group.
type Target struct {
	Kind    Kind
	Name    string
	Scripts config.Notify
	// MasterDir is notify_master_dir (instances only).
	MasterDir string
}

// Targets lists the notification configuration of cfg's instances and
// sync groups.
func Targets(cfg *config.Config) []Target {
	var out []Target
	for _, in := range cfg.Instances {
		out = append(out, Target{Kind: Instance, Name: in.Name, Scripts: in.Notify, MasterDir: in.NotifyMasterDir})
	}
	for _, g := range cfg.SyncGroups {
		out = append(out, Target{Kind: Group, Name: g.Name, Scripts: g.Notify})
	}
	return out
}

// Options configure a Notifier.
type Options struct {
	// Logger receives what the scripts did; nil discards.
	Logger *slog.Logger
	// Runner prepares and runs the scripts (required).
	Runner *scripts.Runner
	// Timeout bounds each script run (default DefaultTimeout).
	Timeout time.Duration
	// QueueLen bounds the changes waiting per instance or group (default
	// DefaultQueueLen), not counting the one being notified.
	QueueLen int
	// Bus, when set, gets every change for GET /v1/events; Close closes
	// it.
	Bus *Bus
	// Now stamps the events (default time.Now).
	Now func() time.Time
}

type targetKey struct {
	kind Kind
	name string
}

// prepared is a Target whose scripts passed the Runner's checks.
type prepared struct {
	byState   map[State]*scripts.Script
	any       *scripts.Script
	masterDir string
}

type queue struct {
	pending []Change
	running bool
}

// Notifier runs notify scripts asynchronously.
type Notifier struct {
	opts   Options
	log    *slog.Logger
	ctx    context.Context // scripts run under it; Close cancels it
	cancel context.CancelFunc

	mu      sync.Mutex
	targets map[targetKey]*prepared
	queues  map[targetKey]*queue
	closed  bool
	busy    int
	idle    chan struct{} // closed when busy drops to 0
	fifos   []*fifo
	// fifoDrops counts the lines each FIFO path dropped since the
	// daemon started: unlike a fifo's own count, it survives the FIFO
	// being closed and opened again (a reload that changes it).
	fifoDrops map[string]uint64
}

// New returns a Notifier with no targets; call Configure.
func New(opts Options) (*Notifier, error) {
	if opts.Runner == nil {
		return nil, errors.New("notify: Options.Runner is nil")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = DefaultQueueLen
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &Notifier{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel,
		targets: map[targetKey]*prepared{}, queues: map[targetKey]*queue{}, idle: idle}, nil
}

// Configure replaces the notification configuration, at load and at every
// reload. Each script is prepared (user, file and security checks); one
// that is refused is logged and left out, as keepalived leaves it out, and
// its error is part of the joined error returned. Changes already queued
// run with the new configuration.
func (n *Notifier) Configure(targets []Target) error {
	var errs []error
	next := map[targetKey]*prepared{}
	for _, t := range targets {
		p := &prepared{byState: map[State]*scripts.Script{}, masterDir: t.MasterDir}
		for _, sc := range []struct {
			st  State
			cmd *config.Command
		}{{Master, t.Scripts.Master}, {Backup, t.Scripts.Backup}, {Fault, t.Scripts.Fault}, {Stop, t.Scripts.Stop},
			{Deleted, t.Scripts.Deleted}, {MasterRxLowerPri, t.Scripts.MasterRxLowerPri}} {
			st, cmd := sc.st, sc.cmd
			if s, err := n.prepare(t, "notify_"+lower(st), cmd); err != nil {
				errs = append(errs, err)
			} else if s != nil {
				p.byState[st] = s
			}
		}
		s, err := n.prepare(t, "notify", t.Scripts.Any)
		if err != nil {
			errs = append(errs, err)
		}
		p.any = s
		next[targetKey{t.Kind, t.Name}] = p
	}
	n.mu.Lock()
	n.targets = next
	n.mu.Unlock()
	return errors.Join(errs...)
}

func (n *Notifier) prepare(t Target, what string, cmd *config.Command) (*scripts.Script, error) {
	if cmd == nil {
		return nil, nil
	}
	s, err := n.opts.Runner.Prepare(*cmd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %s: %w", t.Kind, t.Name, what, err)
	}
	return s, nil
}

// lower names the state's script keyword after "notify_".
func lower(s State) string { return strings.ToLower(string(s)) }

// Apply configures cfg's notify scripts (Configure) and notify FIFOs, at
// start and at every reload. A FIFO that cannot be opened is logged and
// left out, as keepalived leaves it out; its error is part of the joined
// error returned.
func (n *Notifier) Apply(cfg *config.Config) error {
	return errors.Join(n.Configure(Targets(cfg)), n.configureFIFOs(FIFOsOf(cfg)))
}

// configureFIFOs keeps the open FIFOs that specs still name unchanged,
// closes the others and opens the new ones.
func (n *Notifier) configureFIFOs(specs []config.FIFO) error {
	n.mu.Lock()
	old := n.fifos
	n.mu.Unlock()
	var keep, drop []*fifo
	var errs []error
	for _, f := range old {
		if slices.ContainsFunc(specs, func(s config.FIFO) bool { return sameFIFO(s, f.spec) }) {
			keep = append(keep, f)
		} else {
			drop = append(drop, f)
		}
	}
	// Closed first: a FIFO whose script changed is the same path.
	n.mu.Lock()
	n.fifos = keep
	n.mu.Unlock()
	for _, f := range drop {
		n.closeFIFO(f)
	}
	next := slices.Clone(keep)
	for _, s := range specs {
		if slices.ContainsFunc(keep, func(f *fifo) bool { return sameFIFO(s, f.spec) }) {
			continue
		}
		f, err := n.openFIFO(s)
		if err != nil {
			n.log.Error("notify FIFO left out", "err", err)
			errs = append(errs, err)
			continue
		}
		n.log.Info("notify FIFO open", "fifo", s.Path, "created", f.created)
		next = append(next, f)
	}
	n.mu.Lock()
	closed := n.closed
	if !closed {
		n.fifos = next
	}
	n.mu.Unlock()
	if closed { // Close ran meanwhile
		for _, f := range next[len(keep):] {
			n.closeFIFO(f)
		}
	}
	return errors.Join(errs...)
}

// FIFODrops is how many lines the notify FIFOs dropped (pipe full) since
// the notifier started, all paths together; it never goes down.
func (n *Notifier) FIFODrops() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var d uint64
	for _, v := range n.fifoDrops {
		d += v
	}
	return d
}

// FIFODropsByPath is FIFODrops by FIFO path, a copy: every path that has
// dropped a line since the notifier started, also one no longer
// configured (the hactl_notify_fifo_dropped_total counters).
func (n *Notifier) FIFODropsByPath() map[string]uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.fifoDrops)
}

// countFIFODrop counts a line f dropped; n.mu is held.
func (n *Notifier) countFIFODrop(path string) {
	if n.fifoDrops == nil {
		n.fifoDrops = map[string]uint64{}
	}
	n.fifoDrops[path]++
}

// Notify hands a change to the notify FIFOs and the event bus, then queues
// its scripts, and returns at once; all three see the changes in the order
// of the calls. When the instance's queue is full, the oldest change still
// waiting is dropped (and logged): the scripts then see the latest states
// rather than a growing backlog.
func (n *Notifier) Notify(c Change) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.log.Warn("notifier closed; notification dropped", "kind", c.Kind, "name", c.Name, "state", c.State)
		return
	}
	if len(n.fifos) > 0 {
		line := c.Line()
		for _, f := range n.fifos {
			n.writeFIFO(f, line)
		}
	}
	if n.opts.Bus != nil {
		n.opts.Bus.Publish(c, n.opts.Now())
	}
	if c.Replay || !c.State.runsScripts() {
		return
	}
	k := targetKey{c.Kind, c.Name}
	q := n.queues[k]
	if q == nil {
		q = &queue{}
		n.queues[k] = q
	}
	if len(q.pending) >= n.opts.QueueLen {
		d := q.pending[0]
		q.pending = q.pending[1:]
		n.log.Warn("notification queue full; oldest waiting notification dropped",
			"kind", c.Kind, "name", c.Name, "dropped_state", d.State, "dropped_priority", d.Priority)
	}
	q.pending = append(q.pending, c)
	if !q.running {
		q.running = true
		if n.busy == 0 {
			n.idle = make(chan struct{})
		}
		n.busy++
		go n.work(k, q)
	}
}

// work notifies a target's queued changes in order, then exits.
func (n *Notifier) work(k targetKey, q *queue) {
	for {
		n.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			n.busy--
			if n.busy == 0 {
				close(n.idle)
			}
			n.mu.Unlock()
			return
		}
		c := q.pending[0]
		q.pending = q.pending[1:]
		t := n.targets[k]
		n.mu.Unlock()
		if t != nil {
			n.run(c, t)
		}
	}
}

// Flush waits until every queued notification has run, or ctx ends.
func (n *Notifier) Flush(ctx context.Context) error {
	n.mu.Lock()
	idle := n.idle
	n.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for notify scripts: %w", ctx.Err())
	}
}

// Close stops accepting changes and waits for the queued ones (notify_stop
// included) until ctx ends. Then it drops what still waits, kills the
// scripts still running (their process groups get SIGTERM, then SIGKILL
// after the Runner's grace) and waits for them; the error then says so.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	n.closed = true
	fifos := n.fifos
	n.fifos = nil
	n.mu.Unlock()
	// The FIFOs and the event streams have every line already.
	for _, f := range fifos {
		n.closeFIFO(f)
	}
	if n.opts.Bus != nil {
		n.opts.Bus.Close()
	}
	err := n.Flush(ctx)
	if err == nil {
		n.cancel()
		return nil
	}
	n.mu.Lock()
	for k, q := range n.queues {
		if len(q.pending) > 0 {
			n.log.Warn("shutting down; waiting notifications dropped", "kind", k.kind, "name", k.name, "dropped", len(q.pending))
			q.pending = nil
		}
	}
	idle := n.idle
	n.mu.Unlock()
	n.cancel()
	<-idle // bounded: a cancelled run returns within the Runner's KillGrace
	return err
}
