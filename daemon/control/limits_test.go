package control

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLimitsFor(t *testing.T) {
	for _, tc := range []struct {
		nofile              uint64
		total, perUID, root int
	}{
		{1 << 20, DefaultMaxConns, DefaultMaxConnsPerUID, DefaultRootReserve},
		{1024, DefaultMaxConns, DefaultMaxConnsPerUID, DefaultRootReserve}, // (1024-256)/2 = 384 >= 256
		{512, 128, 16, 8},
		{300, 22, 2, 2},
		{100, 4, 1, 2}, // below the reserve: a floor, so root can still ask
	} {
		l := LimitsFor(tc.nofile)
		if l.MaxConns != tc.total || l.MaxConnsPerUID != tc.perUID || l.RootReserve != tc.root || l.IdleTimeout != DefaultIdleTimeout {
			t.Errorf("LimitsFor(%d) = %+v, want total %d, per uid %d, root reserve %d", tc.nofile, l, tc.total, tc.perUID, tc.root)
		}
		if tc.nofile > DescriptorReserve && uint64(l.MaxConns) > tc.nofile-DescriptorReserve {
			t.Errorf("LimitsFor(%d): %d connections eat into the %d-descriptor reserve", tc.nofile, l.MaxConns, DescriptorReserve)
		}
	}
}

func TestConnLimiterAdmit(t *testing.T) {
	const alice, bob = 1000, 1001
	type step struct {
		uid   int
		admit bool // false: release one of uid's
		want  bool
	}
	a := func(uid int, want bool) step { return step{uid, true, want} }
	r := func(uid int) step { return step{uid, false, true} }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"per uid cap", []step{a(alice, true), a(alice, true), a(alice, false), a(bob, true)}},
		{"a slot comes back when released", []step{a(alice, true), a(alice, true), a(alice, false), r(alice), a(alice, true)}},
		{"others leave root its reserve", []step{a(alice, true), a(alice, true), a(bob, true), a(bob, true), a(1002, false), a(0, true), a(0, true)}},
		{"root may not pass the total", []step{a(0, true), a(0, true), a(0, true), a(0, true), a(0, true), a(0, true), a(0, false)}},
		{"root's connections count against others", []step{a(0, true), a(0, true), a(0, true), a(alice, true), a(bob, false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newConnLimiter(Limits{MaxConns: 6, MaxConnsPerUID: 2, RootReserve: 2}, nil)
			for i, s := range tc.steps {
				if !s.admit {
					l.release(s.uid)
					continue
				}
				if got := l.admit(s.uid); got != s.want {
					t.Fatalf("step %d: admit(uid %d) = %v, want %v (open %d, by uid %v)", i, s.uid, got, s.want, l.open, l.byUID)
				}
			}
		})
	}
}

// Refusals are counted one by one but logged at most once per
// refusedLogEvery, with the number since the last line.
func TestConnLimiterLogsAtABoundedRate(t *testing.T) {
	var buf bytes.Buffer
	l := newConnLimiter(Limits{MaxConns: 1, MaxConnsPerUID: 1}, slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := 0; i < 10000; i++ {
		l.refuse(1000, 42, "over the connection limit")
		now = now.Add(time.Millisecond) // 10 s in all
	}
	if got := l.stats().Refused; got != 10000 {
		t.Errorf("refused %d, want 10000", got)
	}
	lines := strings.Count(buf.String(), "\n")
	if lines < 1 || lines > 2 {
		t.Errorf("%d log lines for 10,000 refusals in 10 s, want 1 or 2:\n%s", lines, buf.String())
	}
	if !strings.Contains(buf.String(), "refused_since_last_line=") || !strings.Contains(buf.String(), "uid=1000") {
		t.Errorf("log line lacks the counts or the uid:\n%s", buf.String())
	}
}
