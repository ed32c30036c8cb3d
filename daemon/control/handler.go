package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// Errors a Backend returns to get the matching HTTP status.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
	// ErrUnavailable: the daemon cannot answer now (its loop did not
	// answer in time, or it is stopping); 503.
	ErrUnavailable = errors.New("unavailable")
)

// Backend is what the daemon offers the API.
type Backend interface {
	// Status fails with ErrUnavailable when the daemon cannot answer in
	// time, rather than answering an empty status.
	Status() (api.Status, error)
	Instance(name string) (api.Instance, error)
	// Promote makes the instance win mastership until cleared, or for d
	// when d > 0.
	Promote(name string, d time.Duration) (api.Instance, error)
	ClearPromotion(name string) (api.Instance, error)
	Reload() (api.ReloadResult, error)
}

// Peer is the process at the other end of a connection.
type Peer struct {
	PID, UID, GID int
	// Groups are its supplementary groups.
	Groups []int
}

type peerKey struct{}

// WithPeer returns ctx carrying the connection's peer.
func WithPeer(ctx context.Context, p Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// PeerFrom returns the peer stored by WithPeer.
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// Policy decides who may read and who may change.
type Policy struct {
	// ReadGID lets members of this group read; -1 lets only root.
	ReadGID int
}

func (p Policy) canRead(peer Peer) bool {
	if peer.UID == 0 {
		return true
	}
	if p.ReadGID < 0 {
		return false
	}
	if peer.GID == p.ReadGID {
		return true
	}
	for _, g := range peer.Groups {
		if g == p.ReadGID {
			return true
		}
	}
	return false
}

func (p Policy) canWrite(peer Peer) bool { return peer.UID == 0 }

const maxBody = 64 << 10

// Handler returns the API's HTTP handler. metrics may be nil.
func Handler(b Backend, pol Policy, metrics http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{b: b, pol: pol, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.PathStatus, h.read(func(w http.ResponseWriter, r *http.Request) {
		h.answer(w, func() (any, error) { return b.Status() })
	}))
	mux.HandleFunc("GET "+api.PathInstance+"{name}", h.read(func(w http.ResponseWriter, r *http.Request) {
		h.answer(w, func() (any, error) { return b.Instance(r.PathValue("name")) })
	}))
	mux.HandleFunc("POST "+api.PathInstance+"{name}/promote", h.write(func(w http.ResponseWriter, r *http.Request) {
		var req api.PromoteRequest
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
		if req.For < 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "\"for\" must not be negative")
			return
		}
		h.answer(w, func() (any, error) { return b.Promote(r.PathValue("name"), time.Duration(req.For)) })
	}))
	mux.HandleFunc("DELETE "+api.PathInstance+"{name}/promote", h.write(func(w http.ResponseWriter, r *http.Request) {
		h.answer(w, func() (any, error) { return b.ClearPromotion(r.PathValue("name")) })
	}))
	mux.HandleFunc("POST "+api.PathReload, h.write(func(w http.ResponseWriter, r *http.Request) {
		if err := decodeBody(r, &struct{}{}); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
		h.answer(w, func() (any, error) { return b.Reload() })
	}))
	mux.HandleFunc("GET "+api.PathEvents, h.read(h.events))
	if metrics != nil {
		mux.Handle("GET "+api.PathMetrics, h.read(metrics.ServeHTTP))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			other := r.Clone(r.Context())
			other.Method = m
			if _, p := mux.Handler(other); p != "/" && p != "" {
				writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path))
				return
			}
		}
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s %s (see docs/api.md)", r.Method, r.URL.Path))
	})
	return mux
}

type handler struct {
	b   Backend
	pol Policy
	log *slog.Logger
}

func (h *handler) read(next http.HandlerFunc) http.HandlerFunc {
	return h.guard("read", h.pol.canRead, next)
}

func (h *handler) write(next http.HandlerFunc) http.HandlerFunc {
	return h.guard("change", h.pol.canWrite, next)
}

func (h *handler) guard(what string, allowed func(Peer) bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		peer, ok := PeerFrom(r.Context())
		if !ok || !allowed(peer) {
			h.log.Warn("control socket: request refused", "method", r.Method, "path", r.URL.Path, "uid", peer.UID, "gid", peer.GID, "pid", peer.PID)
			writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("uid %d may not %s through this socket (root only%s)", peer.UID, what, groupNote(what, h.pol)))
			return
		}
		next(w, r)
	}
}

func groupNote(what string, pol Policy) string {
	if what == "read" && pol.ReadGID >= 0 {
		return fmt.Sprintf(", or group %d", pol.ReadGID)
	}
	return ""
}

func (h *handler) answer(w http.ResponseWriter, fn func() (any, error)) {
	v, err := fn()
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, ErrUnavailable):
		h.log.Warn("control socket: daemon unavailable", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		h.log.Error("control socket: request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

// decodeBody reads an optional JSON object strictly: unknown fields,
// trailing data and oversized bodies are errors.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxBody {
		return fmt.Errorf("body over %d bytes", maxBody)
	}
	return DecodeJSON(body, v)
}

// DecodeJSON is the strict decoder of request bodies; an empty body is an
// empty object.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("bad JSON body: trailing data")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("bad JSON body: trailing data")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.Error{Status: status, Code: code, Message: strings.TrimSpace(msg)})
}
