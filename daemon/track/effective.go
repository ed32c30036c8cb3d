package track

// OwnerPriority is the priority of an address owner, which trackers never
// change.
const OwnerPriority = 255

// Tracked is a tracker as one instance sees it: the reference with its
// weight, and the tracker's current state.
type Tracked struct {
	Ref
	State State
}

// Contribution is what one tracker does to an instance.
type Contribution struct {
	Tracked
	// Delta is added to the priority.
	Delta int
	// Fault: the tracker puts the instance in FAULT.
	Fault bool
	// Pending: an unweighted script that has not reported yet holds the
	// instance back (keepalived keeps it in INIT).
	Pending bool
	// Failing: the tracker is failing (script failed, interface down,
	// file in fault or lowering the priority), whatever its weight.
	Failing bool
}

// Priority is an instance's effective priority and fault.
type Priority struct {
	// Priority is the base plus the trackers' deltas, clamped to 1..254;
	// an address owner's 255 never changes.
	Priority int
	// Fault: a tracker puts the instance in FAULT.
	Fault bool
	// Pending: the instance should not start (stay in its initial
	// state) until every unweighted script has reported once.
	Pending bool
	// Failing names the failing trackers ("script chk_web",
	// "interface eth1"), in the order given.
	Failing []string
	// Trackers details every tracker's contribution.
	Trackers []Contribution
}

// Effective computes an instance's effective priority and fault from its
// base priority and its trackers, as keepalived's vrrp_track.c does:
//
//   - script and interface with weight 0: FAILED (down) is a fault; with
//     reverse, OK (up) is.
//   - script and interface with a weight w: a positive w adds w while OK
//     (up), a negative w adds w (subtracts) while FAILED (down); reverse
//     negates what is added.
//   - file with weight 0: a non-zero value is a fault (with reverse, a zero
//     value is). With a weight w, value*w (negated by reverse) is added,
//     capped at 253; -254 or below is a fault.
//   - an interface whose state is unknown counts as down; a weighted
//     script with no result adds nothing; an unweighted one is Pending.
//
// The sum is clamped to 1..254, except that an address owner (base 255)
// stays 255 whatever the weights.
func Effective(base int, trackers ...Tracked) Priority {
	p := Priority{}
	total := base
	for _, t := range trackers {
		c := contribution(t)
		total += c.Delta
		p.Fault = p.Fault || c.Fault
		p.Pending = p.Pending || c.Pending
		if c.Failing {
			p.Failing = append(p.Failing, t.Key.String())
		}
		p.Trackers = append(p.Trackers, c)
	}
	switch {
	case base >= OwnerPriority:
		p.Priority = OwnerPriority
	case total < 1:
		p.Priority = 1
	case total > OwnerPriority-1:
		p.Priority = OwnerPriority - 1
	default:
		p.Priority = total
	}
	return p
}

func contribution(t Tracked) Contribution {
	c := Contribution{Tracked: t}
	mult := 1
	if t.Reverse {
		mult = -1
	}
	if t.Kind == KindFile {
		return fileContribution(c, mult)
	}
	if t.Kind == KindScript && t.State.Status == StatusUnknown {
		c.Pending = t.Weight == 0
		return c
	}
	ok := t.State.Status == StatusOK
	c.Failing = !ok
	switch {
	case t.Weight == 0:
		c.Fault = ok != (mult == 1)
		c.Failing = c.Fault
	case ok && t.Weight > 0, !ok && t.Weight < 0:
		c.Delta = t.Weight * mult
	}
	return c
}

// fileContribution follows keepalived's track_file.c: the value times the
// weight, clamped to -254..253, -254 meaning fault.
func fileContribution(c Contribution, mult int) Contribution {
	v := c.State.Value
	if c.Weight == 0 {
		c.Fault = (v != 0) == (mult == 1)
		c.Failing = c.Fault
		return c
	}
	status := v * int64(c.Weight) * int64(mult)
	switch {
	case status <= -254:
		c.Fault = true
	case status > 253:
		c.Delta = 253
	default:
		c.Delta = int(status)
	}
	c.Failing = c.Fault || c.Delta < 0
	return c
}
