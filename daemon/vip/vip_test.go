package vip

import (
	"testing"
	"time"
)

func TestParseScope(t *testing.T) {
	for in, want := range map[string]Scope{"": ScopeGlobal, "global": ScopeGlobal, "site": ScopeSite, "link": ScopeLink, "host": ScopeHost} {
		got, err := ParseScope(in)
		if err != nil || got != want {
			t.Errorf("ParseScope(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseScope("galaxy"); err == nil {
		t.Error("ParseScope(galaxy): no error")
	}
}

func TestLifetimeRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {3100 * time.Millisecond, 4}} {
		if got := Lifetime(tc.d).seconds(); got != tc.want {
			t.Errorf("Lifetime(%v) = %d s, want %d", tc.d, got, tc.want)
		}
	}
}
