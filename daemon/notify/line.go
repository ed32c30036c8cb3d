package notify

import (
	"strconv"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// Line is the change as keepalived 2.2.7 writes it to a notify FIFO
// (vrrp_notify.c, notify_fifo: "%s \"%s\" %s %d\n"): the kind, the name
// in double quotes (not escaped: keepalived's names have no quotes or
// spaces), the state or event, and the priority, 0 for a group.
func (c Change) Line() string {
	p := c.Priority
	if c.Kind == Group {
		p = 0
	}
	b := make([]byte, 0, len(c.Kind)+len(c.Name)+len(c.State)+10)
	b = append(b, c.Kind...)
	b = append(b, ' ', '"')
	b = append(b, c.Name...)
	b = append(b, '"', ' ')
	b = append(b, c.State...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(p), 10)
	b = append(b, '\n')
	return string(b)
}

// Event is the change as GET /v1/events streams it.
func (c Change) Event(seq uint64, at time.Time) api.Event {
	l := c.Line()
	p := c.Priority
	if c.Kind == Group {
		p = 0
	}
	return api.Event{Seq: seq, Time: at, Type: string(c.Kind), Name: c.Name, State: string(c.State),
		Priority: p, Replay: c.Replay, Line: l[:len(l)-1]}
}
