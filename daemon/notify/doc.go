// Package notify runs keepalived's notify scripts when an instance or a
// sync group changes state, without ever blocking the state machine.
//
// For a change to MASTER, BACKUP, FAULT or STOP it runs, one after the
// other and each with a timeout: the state's own script (notify_master,
// notify_backup, notify_fault, notify_stop), then the generic notify script
// with keepalived's four arguments appended, "INSTANCE" or "GROUP", the
// name, the state and the priority (0 for a group), then, on MASTER, every
// executable of notify_master_dir in run-parts order with the same four
// arguments. Failures are logged and do not stop the sequence.
//
// Each instance or group has its own queue and worker, so that its
// notifications run in order while different instances do not wait for one
// another. Notify only enqueues: when a queue already holds
// Options.QueueLen waiting changes, the oldest waiting one is dropped and
// logged. At shutdown the daemon enqueues STOP for everything and calls
// Close with a deadline.
//
// Every change (and keepalived's events: MASTER_RX_LOWER_PRI, the
// priority changes, DELETED) is also written, in the same order and
// before its scripts are queued, to the notify FIFOs (notify_fifo,
// vrrp_notify_fifo: keepalived's line format, non-blocking writes, see
// fifo.go) and to the event Bus that GET /v1/events streams (a bounded
// queue per subscriber; a slow one loses events and is told how many).
// One call, Notify, feeds all three, so that they cannot disagree.
package notify
