package track

import (
	"strings"
	"testing"
)

// TestScriptStateRiseFall feeds results ('+' success, '-' failure) and
// checks the status after each ('?' unknown, 'O' OK, 'F' failed).
func TestScriptStateRiseFall(t *testing.T) {
	tests := []struct {
		name       string
		rise, fall int
		initFail   bool
		in, want   string
	}{
		{name: "defaults: first success is OK", rise: 1, fall: 1, in: "+-+-", want: "OFOF"},
		{name: "first failure fails at once", rise: 3, fall: 3, in: "-", want: "F"},
		{name: "one success is enough at start", rise: 3, fall: 2, in: "+", want: "O"},
		{name: "fall 2", rise: 1, fall: 2, in: "+-+--", want: "OOOOF"},
		{name: "fall 3 with a success in between", rise: 1, fall: 3, in: "+--+---", want: "OOOOOOF"},
		{name: "rise 3 after failing", rise: 3, fall: 1, in: "+-++-+++", want: "OFFFFFFO"},
		{name: "init_fail needs rise successes", rise: 2, fall: 1, initFail: true, in: "++", want: "FO"},
		{name: "init_fail rise 1", rise: 1, fall: 1, initFail: true, in: "-+", want: "FO"},
		{name: "zero rise and fall become 1", rise: 0, fall: 0, in: "+-", want: "OF"},
	}
	letter := map[Status]byte{StatusUnknown: '?', StatusOK: 'O', StatusFailed: 'F'}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewScriptState(tt.rise, tt.fall, tt.initFail)
			if tt.initFail && s.Status() != StatusFailed || !tt.initFail && s.Status() != StatusUnknown {
				t.Fatalf("initial status %v", s.Status())
			}
			var got strings.Builder
			prev := s.Status()
			for _, c := range tt.in {
				st, changed := s.Observe(c == '+')
				if changed != (st != prev) {
					t.Errorf("changed = %v going %v -> %v", changed, prev, st)
				}
				prev = st
				got.WriteByte(letter[st])
			}
			if got.String() != tt.want {
				t.Errorf("%s: got %s, want %s", tt.in, got.String(), tt.want)
			}
		})
	}
}

func TestResumeScriptState(t *testing.T) {
	s := ResumeScriptState(2, 2, StatusOK)
	if s.Status() != StatusOK {
		t.Fatal(s.Status())
	}
	if st, _ := s.Observe(false); st != StatusOK {
		t.Errorf("one failure of fall 2 after reload: %v", st)
	}
	if st, _ := s.Observe(false); st != StatusFailed {
		t.Errorf("two failures: %v", st)
	}
	s = ResumeScriptState(2, 2, StatusFailed)
	if st, _ := s.Observe(true); st != StatusFailed {
		t.Errorf("one success of rise 2 after reload: %v", st)
	}
	if st, _ := s.Observe(true); st != StatusOK {
		t.Errorf("two successes: %v", st)
	}
	if s := ResumeScriptState(2, 2, StatusUnknown); s.Status() != StatusUnknown {
		t.Errorf("unknown resumes as %v", s.Status())
	}
}
