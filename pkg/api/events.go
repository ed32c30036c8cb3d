package api

import "time"

// PathEvents streams the daemon's notifications (GET, newline-delimited
// JSON, one Event a line, until the client or the daemon closes).
const PathEvents = "/v1/events"

// Event types besides EventInstance and EventGroup.
const (
	EventInstance = "INSTANCE"
	EventGroup    = "GROUP"
	// EventDropped says that this stream missed Dropped events because
	// its reader did not keep up; it comes where they would have been.
	EventDropped = "dropped"
)

// Event is one notification, the same the notify scripts and notify
// FIFOs get, in the same order.
type Event struct {
	// Seq numbers the daemon's notifications from 1; a stream sees them
	// in order (a gap is announced by an EventDropped). 0 for
	// EventDropped.
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Type is EventInstance, EventGroup or EventDropped.
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	// State is the state entered (MASTER, BACKUP, FAULT, STOP, DELETED)
	// or one of keepalived's events: MASTER_RX_LOWER_PRI (a master heard
	// a lower priority), MASTER_PRIORITY and BACKUP_PRIORITY (the
	// effective priority changed, with notify_priority_changes).
	State string `json:"state,omitempty"`
	// Priority is the instance's effective priority; 0 for a group.
	Priority int `json:"priority"`
	// Replay marks a state restated after a reload
	// (fifo_write_vrrp_states_on_reload), not a change.
	Replay bool `json:"replay,omitempty"`
	// Line is the notify FIFO's line, without its newline:
	// INSTANCE "VI_1" MASTER 200.
	Line string `json:"line,omitempty"`
	// Dropped is how many events an EventDropped stands for.
	Dropped uint64 `json:"dropped,omitempty"`
}
