package track

import (
	"encoding/binary"
	"errors"
	"testing"
)

// procMsg builds a proc connector message: what, then event_data words.
func procMsg(what uint32, data ...uint32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlmsgHdrLen+cnMsgLen+procEventHdr+4*len(data))
	ne.PutUint32(b[0:4], uint32(len(b)))
	ne.PutUint32(b[16:20], cnIdxProc)
	ne.PutUint32(b[20:24], cnValProc)
	pe := b[nlmsgHdrLen+cnMsgLen:]
	ne.PutUint32(pe[0:4], what)
	for i, d := range data {
		ne.PutUint32(pe[procEventHdr+4*i:], d)
	}
	return b
}

func TestParseProcEvent(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want procEvent
		ok   bool
		err  error
	}{
		{"ack", procMsg(procEventNone, 0), procEvent{Kind: procAck}, true, nil},
		{"fork of a process", procMsg(procEventFork, 10, 10, 11, 11), procEvent{Kind: procFork, Parent: 10, PID: 11}, true, nil},
		{"fork of a thread", procMsg(procEventFork, 10, 10, 12, 11), procEvent{Kind: procFork, Parent: 10, PID: 11}, false, nil},
		{"exec", procMsg(procEventExec, 20, 20), procEvent{Kind: procExec, PID: 20}, true, nil},
		{"exec of a thread", procMsg(procEventExec, 21, 20), procEvent{Kind: procExec, PID: 20}, false, nil},
		{"comm", procMsg(procEventComm, 30, 30, 0x73726576, 0, 0, 0), procEvent{Kind: procComm, PID: 30}, true, nil},
		{"exit", procMsg(procEventExit, 40, 40, 0, 9), procEvent{Kind: procExit, PID: 40}, true, nil},
		{"exit of a thread", procMsg(procEventExit, 41, 40, 0, 0), procEvent{Kind: procExit, PID: 40}, false, nil},
		{"uid change is of no use", procMsg(0x4, 1, 1, 0, 0), procEvent{}, false, nil},
		{"short", procMsg(procEventExec)[:30], procEvent{}, false, errProcShort},
		{"exec without its data", procMsg(procEventExec), procEvent{}, false, errProcShort},
		{"another connector", func() []byte { b := procMsg(procEventExec, 1, 1); b[16] = 9; return b }(), procEvent{}, false, errProcNotOur},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok, err := parseProcEvent(tt.b)
			if !errors.Is(err, tt.err) || ok != tt.ok || (ok && ev != tt.want) {
				t.Errorf("parseProcEvent = %+v %v %v, want %+v %v %v", ev, ok, err, tt.want, tt.ok, tt.err)
			}
		})
	}
}

func TestProcListenMessage(t *testing.T) {
	ne := binary.NativeEndian
	b := procListenMessage(77)
	if len(b) != 40 || ne.Uint32(b[0:4]) != 40 || ne.Uint16(b[4:6]) != 3 || ne.Uint32(b[12:16]) != 77 ||
		ne.Uint32(b[16:20]) != cnIdxProc || ne.Uint32(b[20:24]) != cnValProc || ne.Uint16(b[32:34]) != 4 || ne.Uint32(b[36:40]) != procCnMcastListen {
		t.Errorf("listen message % x", b)
	}
}

func FuzzParseProcEvent(f *testing.F) {
	f.Add(procMsg(procEventFork, 1, 1, 2, 2))
	f.Add(procMsg(procEventExit, 1, 1, 0, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseProcEvent(b)
	})
}
