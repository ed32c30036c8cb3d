package track

// ScriptState is keepalived's rise/fall counter for one vrrp_script
// (vrrp_script_child_thread in keepalived/vrrp/vrrp_scheduler.c): a result
// between 0 and rise+fall-1, OK from rise up.
//
//   - A new script starts with no status (keepalived's INIT) one success
//     short of OK: its first success makes it OK, its first failure makes
//     it FAILED.
//   - With init_fail it starts FAILED and needs rise successes.
//   - Once OK, fall consecutive failures make it FAILED; once FAILED, rise
//     consecutive successes make it OK. A success while OK, or a failure
//     while FAILED, resets the count.
//
// A run that times out counts as a failure.
type ScriptState struct {
	rise, fall int
	result     int
	init       bool
	status     Status
}

// NewScriptState returns the counter of a script with the given rise and
// fall (values below 1 become 1).
func NewScriptState(rise, fall int, initFail bool) *ScriptState {
	rise, fall = max(rise, 1), max(fall, 1)
	s := &ScriptState{rise: rise, fall: fall}
	if initFail {
		s.status = StatusFailed
	} else {
		s.init = true
		s.result = rise - 1
	}
	return s
}

// ResumeScriptState returns the counter of a script whose status is carried
// over from before a configuration reload: OK needs fall failures to fail,
// FAILED needs rise successes; StatusUnknown starts afresh.
func ResumeScriptState(rise, fall int, prev Status) *ScriptState {
	s := NewScriptState(rise, fall, prev == StatusFailed)
	if prev == StatusOK {
		s.init = false
		s.result = s.rise + s.fall - 1
		s.status = StatusOK
	}
	return s
}

// Status is the script's current status.
func (s *ScriptState) Status() Status { return s.status }

// Observe feeds one run's result and returns the status after it, and
// whether it changed.
func (s *ScriptState) Observe(ok bool) (Status, bool) {
	prev := s.status
	top := s.rise + s.fall - 1
	if ok {
		switch {
		case s.result < s.rise-1:
			s.result++
		case s.result != top:
			if s.result < s.rise {
				s.status = StatusOK
			}
			s.result = top
		}
	} else {
		switch {
		case s.result > s.rise:
			s.result--
		default:
			if s.result == s.rise || s.init {
				s.status = StatusFailed
			}
			s.result = 0
		}
	}
	s.init = false
	return s.status, s.status != prev
}
