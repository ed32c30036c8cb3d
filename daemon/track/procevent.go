package track

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The kernel's process-event connector (linux/cn_proc.h, connector.h):
// one netlink message per event, a struct cn_msg, then a struct
// proc_event, in the host's byte order.
const (
	cnIdxProc = 1 // CN_IDX_PROC
	cnValProc = 1 // CN_VAL_PROC

	procCnMcastListen = 1 // PROC_CN_MCAST_LISTEN

	procEventNone = 0x00000000
	procEventFork = 0x00000001
	procEventExec = 0x00000002
	procEventComm = 0x00000200
	procEventExit = 0x80000000

	nlmsgHdrLen = 16
	cnMsgLen    = 20
	// procEventHdr is what, cpu and timestamp_ns before event_data.
	procEventHdr = 16
)

// procEventKind is what a process event says.
type procEventKind uint8

const (
	procAck procEventKind = iota + 1
	procFork
	procExec
	procComm
	procExit
)

// procEvent is one decoded process event. Events about threads (a pid
// other than its thread group's) are dropped by parseProcEvent, as
// keepalived drops them.
type procEvent struct {
	Kind procEventKind
	// PID is the process (thread group) the event is about: the child
	// of a fork.
	PID int
	// Parent is a fork's parent process.
	Parent int
	// Err is an ack's error number (0: listening).
	Err uint32
}

// Errors of parseProcEvent.
var (
	errProcShort  = errors.New("process event: message too short")
	errProcNotOur = errors.New("process event: not a proc connector message")
)

// parseProcEvent decodes one netlink message from the proc connector. ok
// is false for an event hactl has no use for (threads, uid changes...).
func parseProcEvent(b []byte) (ev procEvent, ok bool, err error) {
	ne := binary.NativeEndian
	if len(b) < nlmsgHdrLen+cnMsgLen+procEventHdr {
		return ev, false, errProcShort
	}
	if n := ne.Uint32(b[0:4]); int(n) > len(b) || n < nlmsgHdrLen {
		return ev, false, fmt.Errorf("process event: netlink length %d of a %d-byte message", n, len(b))
	}
	cn := b[nlmsgHdrLen:]
	if ne.Uint32(cn[0:4]) != cnIdxProc || ne.Uint32(cn[4:8]) != cnValProc {
		return ev, false, errProcNotOur
	}
	pe := cn[cnMsgLen:]
	data := pe[procEventHdr:]
	u32 := func(off int) (int, bool) {
		if off+4 > len(data) {
			return 0, false
		}
		return int(int32(ne.Uint32(data[off : off+4]))), true
	}
	switch ne.Uint32(pe[0:4]) {
	case procEventNone:
		e, okd := u32(0)
		if !okd {
			return ev, false, errProcShort
		}
		return procEvent{Kind: procAck, Err: uint32(e)}, true, nil
	case procEventFork:
		ptgid, ok1 := u32(4)
		cpid, ok2 := u32(8)
		ctgid, ok3 := u32(12)
		if !ok1 || !ok2 || !ok3 {
			return ev, false, errProcShort
		}
		return procEvent{Kind: procFork, Parent: ptgid, PID: ctgid}, cpid == ctgid, nil
	case procEventExec, procEventComm, procEventExit:
		pid, ok1 := u32(0)
		tgid, ok2 := u32(4)
		if !ok1 || !ok2 {
			return ev, false, errProcShort
		}
		k := map[uint32]procEventKind{procEventExec: procExec, procEventComm: procComm, procEventExit: procExit}[ne.Uint32(pe[0:4])]
		return procEvent{Kind: k, PID: tgid}, pid == tgid, nil
	}
	return ev, false, nil
}

// procListenMessage is the netlink message that asks the connector for
// process events (PROC_CN_MCAST_LISTEN), from the socket's port id.
func procListenMessage(portID uint32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	ne.PutUint32(b[0:4], uint32(len(b)))
	ne.PutUint16(b[4:6], 3) // NLMSG_DONE
	ne.PutUint32(b[12:16], portID)
	cn := b[nlmsgHdrLen:]
	ne.PutUint32(cn[0:4], cnIdxProc)
	ne.PutUint32(cn[4:8], cnValProc)
	ne.PutUint16(cn[16:18], 4) // len of the payload
	ne.PutUint32(cn[cnMsgLen:], procCnMcastListen)
	return b
}
