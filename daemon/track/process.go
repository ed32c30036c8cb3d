package track

import (
	"bytes"
	"fmt"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

// Proc is one process as /proc shows it.
type Proc struct {
	PID, PPID int
	// Comm is the kernel's process name (/proc/PID/stat's second field,
	// at most 15 bytes).
	Comm string
	// Cmdline is /proc/PID/cmdline as read: the arguments, each ended
	// by a NUL byte. A zombie's is empty.
	Cmdline []byte
	// Zombie: the process has exited and waits for its parent.
	Zombie bool
}

// MatchProcess reports whether p is one of the processes spec counts, as
// keepalived's check_process and check_params compare them: comm (a zombie
// never matches), or with full_command the first word of the command line;
// then, with param_match, the words after it:
//
//   - exact: the words are exactly the configured ones (none when none
//     are configured);
//   - partial: the configured words are the first ones, whole;
//   - initial: as partial, but the last configured word may be a prefix of
//     the process's word.
func MatchProcess(spec *config.TrackProcess, p Proc) bool {
	if !spec.FullCommand {
		return !p.Zombie && p.Comm == spec.Process
	}
	name, rest, _ := bytes.Cut(p.Cmdline, []byte{0})
	if string(name) != spec.Process || len(p.Cmdline) == 0 {
		return false
	}
	if spec.ParamMatch == config.ParamMatchNone {
		return true
	}
	return matchParams(spec, rest)
}

// matchParams is keepalived's check_params over the NUL-ended words after
// the process name.
func matchParams(spec *config.TrackProcess, params []byte) bool {
	var want []byte
	for _, w := range spec.Params {
		want = append(want, w...)
		want = append(want, 0)
	}
	switch spec.ParamMatch {
	case config.ParamMatchExact:
		return bytes.Equal(params, want)
	case config.ParamMatchPartial:
		return bytes.HasPrefix(params, want)
	default: // initial
		if len(want) == 0 {
			return true
		}
		return len(params) >= len(want) && bytes.HasPrefix(params, want[:len(want)-1])
	}
}

// cause is what changed a tracked process count, which decides the delay
// applied (keepalived's track_process.c).
type cause uint8

const (
	// causeExec: a process now matches, or no longer does (exec, comm
	// change, seen by a scan): no delay.
	causeExec cause = iota
	// causeFork: a tracked process forked: fork_delay.
	causeFork
	// causeExit: a tracked process exited: terminate_delay.
	causeExit
)

// procTracker is one vrrp_track_process: the processes it counts, its
// quorum verdict and its pending delay.
type procTracker struct {
	spec *config.TrackProcess
	pids map[int]bool
	up   bool
	// timer is the pending fork or terminate delay: when it expires,
	// the verdict is taken from the count then.
	timer     time.Time
	timerFork bool // the pending timer is fork_delay's (else terminate_delay's)
	changed   bool
}

func (t *procTracker) inQuorum() bool {
	n := uint64(len(t.pids))
	return n >= uint64(t.spec.Quorum) && n <= uint64(t.spec.QuorumMax)
}

func (t *procTracker) setUp(up bool) {
	if up != t.up {
		t.up, t.changed = up, true
	}
}

// count adds or removes pid and applies keepalived's rule when the count
// crosses a quorum boundary (in either direction):
//
//   - by a fork: a pending terminate delay is cancelled and the verdict
//     taken now; otherwise fork_delay, when set, defers the verdict;
//   - by an exit: a pending fork delay is cancelled and the verdict taken
//     now; otherwise terminate_delay, when set, defers it;
//   - by a process that starts or stops matching: the verdict is taken
//     now, and a pending delay of the other kind is cancelled.
func (t *procTracker) count(pid int, add bool, c cause, now time.Time) {
	if t.pids[pid] == add {
		return
	}
	before := t.inQuorum()
	if add {
		t.pids[pid] = true
	} else {
		delete(t.pids, pid)
	}
	if t.inQuorum() == before {
		return
	}
	pending := !t.timer.IsZero()
	switch {
	case c == causeFork && pending && !t.timerFork, c == causeExit && pending && t.timerFork:
		t.timer = time.Time{}
	case c == causeFork && t.spec.ForkDelay > 0:
		t.timer, t.timerFork = now.Add(t.spec.ForkDelay), true
		return
	case c == causeExit && t.spec.TerminateDelay > 0:
		t.timer, t.timerFork = now.Add(t.spec.TerminateDelay), false
		return
	case c == causeExec && pending && t.timerFork != add:
		// keepalived cancels a terminate delay when a process starts
		// matching, a fork delay when one stops.
		t.timer = time.Time{}
	}
	t.setUp(t.inQuorum())
}

// ProcessSet counts the processes of every vrrp_track_process. It has no
// I/O and no clock: the caller feeds it process lists and events with the
// time, calls Expire when Next says, and reads the verdicts.
type ProcessSet struct {
	trackers []*procTracker
	byName   map[string]*procTracker
	// seen are the PIDs of the last Scan, to tell a process that
	// appeared (a fork, when its parent is tracked) from one that was
	// there.
	seen map[int]bool
}

// NewProcessSet returns a ProcessSet for specs, every tracker counting no
// process (down unless quorum is 0) until Init.
func NewProcessSet(specs []*config.TrackProcess) *ProcessSet {
	s := &ProcessSet{byName: map[string]*procTracker{}, seen: map[int]bool{}}
	for _, sp := range specs {
		t := &procTracker{spec: sp, pids: map[int]bool{}}
		t.up = t.inQuorum()
		s.trackers = append(s.trackers, t)
		s.byName[sp.Name] = t
	}
	return s
}

// Init counts the processes of procs and sets every verdict at once,
// without delays and without reporting changes (keepalived's read_procs at
// start).
func (s *ProcessSet) Init(procs []Proc) {
	clear(s.seen)
	for _, t := range s.trackers {
		clear(t.pids)
		t.timer = time.Time{}
	}
	for _, p := range procs {
		s.seen[p.PID] = true
		for _, t := range s.trackers {
			if MatchProcess(t.spec, p) {
				t.pids[p.PID] = true
			}
		}
	}
	for _, t := range s.trackers {
		t.up, t.changed = t.inQuorum(), false
	}
}

// Exec re-examines a process that exec'd (or changed its comm): it is
// counted by the trackers it now matches and no longer by the others.
// Unlike keepalived, a process that already matched is not counted twice.
func (s *ProcessSet) Exec(p Proc, now time.Time) {
	for _, t := range s.trackers {
		t.count(p.PID, MatchProcess(t.spec, p), causeExec, now)
	}
}

// Fork counts child for every tracker that counts parent.
func (s *ProcessSet) Fork(parent, child int, now time.Time) {
	for _, t := range s.trackers {
		if t.pids[parent] {
			t.count(child, true, causeFork, now)
		}
	}
}

// Exit stops counting pid.
func (s *ProcessSet) Exit(pid int, now time.Time) {
	for _, t := range s.trackers {
		t.count(pid, false, causeExit, now)
	}
}

// Scan compares a full process list with what is counted and turns the
// difference into the events a process-event listener would have seen:
// processes gone are exits (first, so that a restart between two scans is
// a loss and a gain, as it was); a new process whose parent is counted is
// a fork; any other process that starts or stops matching is an exec.
func (s *ProcessSet) Scan(procs []Proc, now time.Time) {
	present := make(map[int]bool, len(procs))
	for _, p := range procs {
		present[p.PID] = true
	}
	for _, t := range s.trackers {
		for pid := range t.pids {
			if !present[pid] {
				t.count(pid, false, causeExit, now)
			}
		}
	}
	for _, p := range procs {
		for _, t := range s.trackers {
			m := MatchProcess(t.spec, p)
			c := causeExec
			if m && !s.seen[p.PID] && t.pids[p.PPID] {
				c = causeFork
			}
			t.count(p.PID, m, c, now)
		}
	}
	s.seen = present
}

// Expire takes the verdict of every tracker whose delay has run out.
func (s *ProcessSet) Expire(now time.Time) {
	for _, t := range s.trackers {
		if !t.timer.IsZero() && !now.Before(t.timer) {
			t.timer = time.Time{}
			t.setUp(t.inQuorum())
		}
	}
}

// Next returns the earliest pending delay, if any.
func (s *ProcessSet) Next() (time.Time, bool) {
	var next time.Time
	for _, t := range s.trackers {
		if !t.timer.IsZero() && (next.IsZero() || t.timer.Before(next)) {
			next = t.timer
		}
	}
	return next, !next.IsZero()
}

// Verdict is one tracker's state.
type Verdict struct {
	Name string
	// Up: quorum (quorum <= Count <= quorum_max).
	Up    bool
	Count int
	// Pending: a fork or terminate delay runs.
	Pending bool
}

// Detail describes the verdict for logs and status.
func (v Verdict) Detail(spec *config.TrackProcess) string {
	q := fmt.Sprintf("%d-", spec.Quorum)
	if spec.QuorumMax != config.QuorumMaxUnlimited {
		q += fmt.Sprint(spec.QuorumMax)
	}
	d := fmt.Sprintf("%d running, quorum %s", v.Count, q)
	if v.Pending {
		d += ", delay pending"
	}
	return d
}

// Verdicts returns every tracker's state, in configuration order.
func (s *ProcessSet) Verdicts() []Verdict {
	out := make([]Verdict, 0, len(s.trackers))
	for _, t := range s.trackers {
		out = append(out, Verdict{Name: t.spec.Name, Up: t.up, Count: len(t.pids), Pending: !t.timer.IsZero()})
	}
	return out
}

// Changed returns the names of the trackers whose verdict changed since
// the last call (Init resets it).
func (s *ProcessSet) Changed() []string {
	var out []string
	for _, t := range s.trackers {
		if t.changed {
			t.changed = false
			out = append(out, t.spec.Name)
		}
	}
	return out
}

// Counted reports whether pid is counted by some tracker (the connector
// edge reads /proc only for events about processes that matter).
func (s *ProcessSet) Counted(pid int) bool {
	for _, t := range s.trackers {
		if t.pids[pid] {
			return true
		}
	}
	return false
}
