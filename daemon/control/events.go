package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// StreamWriteTimeout bounds each write of an event stream: a client that
// stops reading for this long, once the socket's buffers are full, loses
// its connection (its events were being dropped meanwhile, counted).
const StreamWriteTimeout = 10 * time.Second

// EventStream is one subscriber of the daemon's notifications.
type EventStream interface {
	// Next waits for the next event; io.EOF once the daemon stops.
	Next(ctx context.Context) (api.Event, error)
	Close()
}

// EventSource is a Backend that streams its notifications (GET
// /v1/events). Subscribing fails with ErrUnavailable over its bound of
// subscribers or when the daemon is stopping.
type EventSource interface {
	Events() (EventStream, error)
}

// events streams the notifications as newline-delimited JSON until the
// client goes away (the server's background read sees it and cancels the
// request's context) or the daemon stops. The connection still counts
// against the socket's caps. The server's idle (10 s) and read timeouts
// do not apply to a request being answered (net/http clears the read
// deadline for its background read); its 30 s write timeout, which would
// end every stream after 30 s, is replaced by StreamWriteTimeout per event.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	src, ok := h.b.(EventSource)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "this daemon has no event stream")
		return
	}
	sub, err := src.Events()
	if err != nil {
		h.answer(w, func() (any, error) { return nil, err })
		return
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	enc := json.NewEncoder(w)
	ctx := r.Context()
	for {
		ev, err := sub.Next(ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				h.log.Warn("control socket: event stream ended", "err", err)
			}
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
		if enc.Encode(ev) != nil || rc.Flush() != nil {
			return // the client went away or stopped reading
		}
	}
}
