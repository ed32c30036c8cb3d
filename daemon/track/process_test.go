package track

import (
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
)

func cmdline(words ...string) []byte {
	var b []byte
	for _, w := range words {
		b = append(b, w...)
		b = append(b, 0)
	}
	return b
}

// TestMatchProcess follows keepalived's check_process/check_params.
func TestMatchProcess(t *testing.T) {
	sleep := Proc{PID: 10, Comm: "sleep", Cmdline: cmdline("sleep", "1000", "x")}
	tests := []struct {
		name string
		spec config.TrackProcess
		p    Proc
		want bool
	}{
		{"comm", config.TrackProcess{Process: "sleep"}, sleep, true},
		{"comm other", config.TrackProcess{Process: "sleepy"}, sleep, false},
		{"comm zombie", config.TrackProcess{Process: "sleep"}, Proc{Comm: "sleep", Zombie: true}, false},
		{"comm is not argv0", config.TrackProcess{Process: "sleep"}, Proc{Comm: "hactl-sleep", Cmdline: cmdline("sleep")}, false},
		{"full_command argv0", config.TrackProcess{Process: "sleep", FullCommand: true}, sleep, true},
		{"full_command path differs", config.TrackProcess{Process: "/bin/sleep", FullCommand: true}, sleep, false},
		{"full_command zombie (empty cmdline)", config.TrackProcess{Process: "sleep", FullCommand: true}, Proc{Comm: "sleep", Zombie: true}, false},
		{"exact", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchExact, Params: []string{"1000", "x"}}, sleep, true},
		{"exact shorter", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchExact, Params: []string{"1000"}}, sleep, false},
		{"exact none wants none", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchExact}, sleep, false},
		{"exact none, none given", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchExact}, Proc{Cmdline: cmdline("sleep")}, true},
		{"partial first words", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchPartial, Params: []string{"1000"}}, sleep, true},
		{"partial whole words", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchPartial, Params: []string{"10"}}, sleep, false},
		{"partial none", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchPartial}, sleep, true},
		{"initial prefix of last word", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchInitial, Params: []string{"10"}}, sleep, true},
		{"initial earlier words whole", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchInitial, Params: []string{"10", "x"}}, sleep, false},
		{"initial longer than the process's", config.TrackProcess{Process: "sleep", FullCommand: true, ParamMatch: config.ParamMatchInitial, Params: []string{"1000", "x", "y"}}, sleep, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchProcess(&tt.spec, tt.p); got != tt.want {
				t.Errorf("MatchProcess = %v, want %v", got, tt.want)
			}
		})
	}
}

func spec(name string, q, qmax uint32, term, fork time.Duration) *config.TrackProcess {
	return &config.TrackProcess{Name: name, Process: "srv", Quorum: q, QuorumMax: qmax, TerminateDelay: term, ForkDelay: fork}
}

func srv(pid, ppid int) Proc { return Proc{PID: pid, PPID: ppid, Comm: "srv"} }

// TestProcessQuorum: up when quorum <= count <= quorum_max, with
// terminate_delay on exits and fork_delay on forks, as keepalived's
// track_process.c; an exec (a process that starts or stops matching) is
// never delayed.
func TestProcessQuorum(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		do   func(s *ProcessSet)
		want bool // the verdict after the step
	}
	exec := func(pid, ms int) func(*ProcessSet) { return func(s *ProcessSet) { s.Exec(srv(pid, 1), at(ms)) } }
	other := func(pid, ms int) func(*ProcessSet) {
		return func(s *ProcessSet) { s.Exec(Proc{PID: pid, Comm: "else"}, at(ms)) }
	}
	exit := func(pid, ms int) func(*ProcessSet) { return func(s *ProcessSet) { s.Exit(pid, at(ms)) } }
	fork := func(parent, child, ms int) func(*ProcessSet) {
		return func(s *ProcessSet) { s.Fork(parent, child, at(ms)) }
	}
	expire := func(ms int) func(*ProcessSet) { return func(s *ProcessSet) { s.Expire(at(ms)) } }
	tests := []struct {
		name  string
		spec  *config.TrackProcess
		init  []Proc
		steps []step
	}{
		{"one process, no delay", spec("a", 1, config.QuorumMaxUnlimited, 0, 0), []Proc{srv(5, 1)},
			[]step{{exit(5, 0), false}, {exec(6, 10), true}, {exec(6, 20), true}, {exit(6, 30), false}}},
		{"exec into something else is immediate", spec("a", 1, config.QuorumMaxUnlimited, time.Second, 0), []Proc{srv(5, 1)},
			[]step{{other(5, 0), false}}},
		{"quorum 2", spec("a", 2, config.QuorumMaxUnlimited, 0, 0), []Proc{srv(5, 1)},
			[]step{{exec(6, 0), true}, {exit(5, 10), false}, {exec(7, 20), true}}},
		{"quorum_max: too many is down", spec("a", 1, 2, 0, 0), []Proc{srv(5, 1), srv(6, 1)},
			[]step{{exec(7, 0), false}, {exit(7, 10), true}}},
		{"quorum_max 0: up while none runs", spec("a", 0, 0, 0, 0), nil,
			[]step{{exec(5, 0), false}, {exit(5, 10), true}}},
		{"terminate_delay holds the loss", spec("a", 1, config.QuorumMaxUnlimited, 500*time.Millisecond, 0), []Proc{srv(5, 1)},
			[]step{{exit(5, 0), true}, {expire(499), true}, {expire(500), false}}},
		{"terminate_delay: back in time, no loss", spec("a", 1, config.QuorumMaxUnlimited, 500*time.Millisecond, 0), []Proc{srv(5, 1)},
			[]step{{exit(5, 0), true}, {exec(6, 100), true}, {expire(600), true}}},
		{"terminate_delay: from the exit that loses quorum", spec("a", 1, config.QuorumMaxUnlimited, 500*time.Millisecond, 0), []Proc{srv(5, 1), srv(9, 1)},
			[]step{{exit(5, 0), true}, {exit(9, 200), true}, {expire(600), true}, {expire(700), false}}},
		{"terminate_delay: a fork cancels it", spec("a", 2, config.QuorumMaxUnlimited, 500*time.Millisecond, 0), []Proc{srv(5, 1), srv(9, 1)},
			[]step{{exit(5, 0), true}, {fork(9, 10, 100), true}, {expire(600), true}}},
		{"fork_delay holds the gain", spec("a", 2, config.QuorumMaxUnlimited, 0, 300*time.Millisecond), []Proc{srv(5, 1)},
			[]step{{fork(5, 6, 0), false}, {expire(299), false}, {expire(300), true}}},
		{"fork_delay: the child exits first", spec("a", 2, config.QuorumMaxUnlimited, 0, 300*time.Millisecond), []Proc{srv(5, 1)},
			[]step{{fork(5, 6, 0), false}, {exit(6, 100), false}, {expire(400), false}}},
		{"fork of an uncounted parent is nothing", spec("a", 1, config.QuorumMaxUnlimited, 0, 0), nil,
			[]step{{fork(5, 6, 0), false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewProcessSet([]*config.TrackProcess{tt.spec})
			s.Init(tt.init)
			for i, st := range tt.steps {
				st.do(s)
				if got := s.Verdicts()[0].Up; got != st.want {
					t.Fatalf("step %d: up %v, want %v (%+v)", i, got, st.want, s.Verdicts()[0])
				}
			}
		})
	}
}

// TestProcessScan: a scan's difference becomes exits, forks and execs.
func TestProcessScan(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := NewProcessSet([]*config.TrackProcess{spec("a", 2, config.QuorumMaxUnlimited, 0, time.Second)})
	s.Init([]Proc{srv(5, 1), {PID: 1, Comm: "init"}})
	if s.Verdicts()[0].Up {
		t.Fatal("one process with quorum 2 is up")
	}
	// 6 is a child of 5: a fork, held by fork_delay.
	s.Scan([]Proc{{PID: 1, Comm: "init"}, srv(5, 1), srv(6, 5)}, t0)
	if v := s.Verdicts()[0]; v.Up || !v.Pending || v.Count != 2 {
		t.Fatalf("after a fork: %+v, want down with a pending delay and 2 counted", v)
	}
	if n, ok := s.Next(); !ok || !n.Equal(t0.Add(time.Second)) {
		t.Fatalf("Next = %v %v", n, ok)
	}
	s.Expire(t0.Add(time.Second))
	if !s.Verdicts()[0].Up {
		t.Fatal("fork delay over: not up")
	}
	if got := s.Changed(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("Changed = %v", got)
	}
	// 7 started by init (not a counted parent): an exec, at once; 5 gone.
	s.Scan([]Proc{{PID: 1, Comm: "init"}, srv(6, 5), srv(7, 1)}, t0.Add(2*time.Second))
	if v := s.Verdicts()[0]; !v.Up || v.Count != 2 {
		t.Fatalf("restart between scans: %+v", v)
	}
	// A restart seen by one scan is a loss then a gain: the verdict is
	// back up, and Changed says it moved.
	s.Scan([]Proc{{PID: 1, Comm: "init"}, srv(6, 5), srv(8, 1)}, t0.Add(3*time.Second))
	if v := s.Verdicts()[0]; !v.Up {
		t.Fatalf("after a replaced process: %+v", v)
	}
	if got := s.Changed(); len(got) != 1 {
		t.Fatalf("a loss and a gain in one scan: Changed = %v, want the tracker", got)
	}
	if d := s.Verdicts()[0].Detail(s.trackers[0].spec); !strings.Contains(d, "2 running, quorum 2-") {
		t.Errorf("Detail = %q", d)
	}
}

// TestEffectiveProcess: a process tracker weighs like a script
// (vrrp_track.c's process_update_track_process_status).
func TestEffectiveProcess(t *testing.T) {
	up := State{Status: StatusOK}
	down := State{Status: StatusFailed}
	tests := []struct {
		name      string
		ref       Ref
		st        State
		prio      int
		wantFault bool
	}{
		{"unweighted up", Ref{Key: Key{KindProcess, "p"}}, up, 100, false},
		{"unweighted down faults", Ref{Key: Key{KindProcess, "p"}}, down, 100, true},
		{"unweighted reverse up faults", Ref{Key: Key{KindProcess, "p"}, Reverse: true}, up, 100, true},
		{"positive weight up adds", Ref{Key: Key{KindProcess, "p"}, Weight: 20}, up, 120, false},
		{"positive weight down adds nothing", Ref{Key: Key{KindProcess, "p"}, Weight: 20}, down, 100, false},
		{"negative weight down subtracts", Ref{Key: Key{KindProcess, "p"}, Weight: -30}, down, 70, false},
		{"reverse positive weight up subtracts", Ref{Key: Key{KindProcess, "p"}, Weight: 20, Reverse: true}, up, 80, false},
		{"weight 254 clamps", Ref{Key: Key{KindProcess, "p"}, Weight: 254}, up, 254, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Effective(100, Tracked{Ref: tt.ref, State: tt.st})
			if p.Priority != tt.prio || p.Fault != tt.wantFault {
				t.Errorf("priority %d fault %v, want %d %v", p.Priority, p.Fault, tt.prio, tt.wantFault)
			}
		})
	}
}
