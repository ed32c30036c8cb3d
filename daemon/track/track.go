package track

import (
	"fmt"
	"time"
)

// Kind is the kind of a tracker.
type Kind uint8

// The tracker kinds.
const (
	KindScript Kind = iota + 1
	KindInterface
	KindFile
	KindProcess
)

func (k Kind) String() string {
	switch k {
	case KindScript:
		return "script"
	case KindInterface:
		return "interface"
	case KindFile:
		return "file"
	case KindProcess:
		return "process"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Key names a tracker: a vrrp_script, an interface, a track_file block or
// a vrrp_track_process block.
type Key struct {
	Kind Kind
	Name string
}

func (k Key) String() string { return k.Kind.String() + " " + k.Name }

// Status is a tracker's verdict.
type Status uint8

// The statuses. For an interface, OK means up (IFF_UP and IFF_RUNNING);
// for a file, OK means its value was read (the value is in State.Value);
// for a process, OK means quorum (quorum <= matching processes <=
// quorum_max).
const (
	// StatusUnknown: no result yet (a script that has not run, keepalived's
	// INIT state).
	StatusUnknown Status = iota
	StatusOK
	StatusFailed
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusFailed:
		return "FAILED"
	}
	return "UNKNOWN"
}

// State is a tracker's current state.
type State struct {
	Status Status
	// Value is a track_file's number (0 when the file is missing or holds
	// no number).
	Value int64
	// Detail says why, for logs and status: a script's last result, "down"
	// for an interface.
	Detail string
	// Since is when Status (or Value) last changed.
	Since time.Time
}

// same reports whether two states mean the same to Effective.
func (s State) same(o State) bool { return s.Status == o.Status && s.Value == o.Value }

// Event is a change of one tracker's state.
type Event struct {
	Key   Key
	State State
	// Prev is the state before the change (before the first change when
	// several were coalesced).
	Prev State
}

// Ref is one instance's use of a tracker, with the weight in force for it.
type Ref struct {
	Key
	// Weight 0 means a failing tracker puts the instance in FAULT.
	Weight int
	// Reverse turns the direction of the weight (keepalived's "reverse").
	Reverse bool
}
