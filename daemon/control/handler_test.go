package control

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

type fakeBackend struct {
	calls []string
	// wedged: the loop does not answer reads.
	wedged bool
}

var errWedged = fmt.Errorf("daemon loop did not answer within 2s: %w", ErrUnavailable)

func (f *fakeBackend) Status() (api.Status, error) {
	if f.wedged {
		return api.Status{}, errWedged
	}
	return api.Status{Daemon: api.Daemon{Name: "hactl"}, Instances: []api.Instance{{Name: "VI_1", State: api.StateMaster}}}, nil
}

func (f *fakeBackend) Instance(name string) (api.Instance, error) {
	if f.wedged {
		return api.Instance{}, errWedged
	}
	if name != "VI_1" {
		return api.Instance{}, fmt.Errorf("instance %q: %w", name, ErrNotFound)
	}
	return api.Instance{Name: name}, nil
}

func (f *fakeBackend) Promote(name string, d time.Duration) (api.Instance, error) {
	f.calls = append(f.calls, fmt.Sprintf("promote %s %v", name, d))
	return f.Instance(name)
}

func (f *fakeBackend) ClearPromotion(name string) (api.Instance, error) {
	f.calls = append(f.calls, "clear "+name)
	return f.Instance(name)
}

func (f *fakeBackend) Reload() (api.ReloadResult, error) {
	f.calls = append(f.calls, "reload")
	return api.ReloadResult{Reloaded: true}, nil
}

var (
	root    = Peer{PID: 1, UID: 0, GID: 0}
	monitor = Peer{PID: 2, UID: 1000, GID: 1000, Groups: []int{4242}}
	other   = Peer{PID: 3, UID: 1001, GID: 1001}
)

func serve(t *testing.T, h http.Handler, peer Peer, method, path, body string) (int, api.Error, string) {
	t.Helper()
	req := httptest.NewRequest(method, "http://hactl"+path, strings.NewReader(body))
	req = req.WithContext(WithPeer(req.Context(), peer))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var e api.Error
	if rec.Code/100 != 2 {
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: error answer with Content-Type %q, want JSON", method, path, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Message == "" {
			t.Errorf("%s %s: error body is not an api.Error: %q", method, path, rec.Body.String())
		}
	}
	return rec.Code, e, rec.Body.String()
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name         string
		peer         Peer
		method, path string
		body         string
		wantStatus   int
		wantCode     string
		wantCall     string
	}{
		{"status as root", root, "GET", "/v1/status", "", 200, "", ""},
		{"status as group member", monitor, "GET", "/v1/status", "", 200, "", ""},
		{"status as stranger", other, "GET", "/v1/status", "", 403, "forbidden", ""},
		{"instance", root, "GET", "/v1/instances/VI_1", "", 200, "", ""},
		{"unknown instance", root, "GET", "/v1/instances/VI_9", "", 404, "not_found", ""},
		{"promote", root, "POST", "/v1/instances/VI_1/promote", `{"for":"2h"}`, 200, "", "promote VI_1 2h0m0s"},
		{"promote seconds", root, "POST", "/v1/instances/VI_1/promote", `{"for":90}`, 200, "", "promote VI_1 1m30s"},
		{"promote no body", root, "POST", "/v1/instances/VI_1/promote", "", 200, "", "promote VI_1 0s"},
		{"promote by group member", monitor, "POST", "/v1/instances/VI_1/promote", "", 403, "forbidden", ""},
		{"promote bad json", root, "POST", "/v1/instances/VI_1/promote", `{"for":`, 400, "bad_request", ""},
		{"promote unknown field", root, "POST", "/v1/instances/VI_1/promote", `{"until":"2h"}`, 400, "bad_request", ""},
		{"promote bad duration", root, "POST", "/v1/instances/VI_1/promote", `{"for":"soon"}`, 400, "bad_request", ""},
		{"promote negative", root, "POST", "/v1/instances/VI_1/promote", `{"for":"-1s"}`, 400, "bad_request", ""},
		{"promote trailing", root, "POST", "/v1/instances/VI_1/promote", `{} {}`, 400, "bad_request", ""},
		{"promote huge", root, "POST", "/v1/instances/VI_1/promote", `{"for":"` + strings.Repeat("1", 70000) + `s"}`, 400, "bad_request", ""},
		{"clear", root, "DELETE", "/v1/instances/VI_1/promote", "", 200, "", "clear VI_1"},
		{"clear unknown", root, "DELETE", "/v1/instances/VI_9/promote", "", 404, "not_found", "clear VI_9"},
		{"reload", root, "POST", "/v1/reload", "", 200, "", "reload"},
		{"reload by stranger", other, "POST", "/v1/reload", "", 403, "forbidden", ""},
		{"wrong method", root, "PUT", "/v1/status", "", 405, "method_not_allowed", ""},
		{"unknown path", root, "GET", "/v2/status", "", 404, "not_found", ""},
		{"no peer", Peer{UID: -1}, "GET", "/v1/status", "", 403, "forbidden", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{}
			h := Handler(b, Policy{ReadGID: 4242}, nil, nil)
			status, e, body := serve(t, h, tc.peer, tc.method, tc.path, tc.body)
			if status != tc.wantStatus || e.Code != tc.wantCode {
				t.Fatalf("got %d %q (%s), want %d %q", status, e.Code, body, tc.wantStatus, tc.wantCode)
			}
			got := strings.Join(b.calls, ";")
			if got != tc.wantCall {
				t.Errorf("backend calls %q, want %q (a refused request must change nothing)", got, tc.wantCall)
			}
		})
	}
}

// TestWedgedLoop: a daemon whose loop does not answer says so with 503 and
// an api.Error, not with 200 and an empty status.
func TestWedgedLoop(t *testing.T) {
	h := Handler(&fakeBackend{wedged: true}, Policy{ReadGID: -1}, nil, nil)
	for _, path := range []string{"/v1/status", "/v1/instances/VI_1"} {
		status, e, body := serve(t, h, root, "GET", path, "")
		if status != http.StatusServiceUnavailable || e.Code != "unavailable" || e.Status != 503 || !strings.Contains(e.Message, "did not answer within 2s") {
			t.Errorf("GET %s on a wedged loop: %d %+v (%s), want 503 unavailable", path, status, e, body)
		}
	}
}

func TestRootOnlyPolicy(t *testing.T) {
	h := Handler(&fakeBackend{}, Policy{ReadGID: -1}, nil, nil)
	if status, _, _ := serve(t, h, monitor, "GET", "/v1/status", ""); status != 403 {
		t.Errorf("group member without a configured group: %d, want 403", status)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "hactl_up 1") })
	h := Handler(&fakeBackend{}, Policy{ReadGID: -1}, metrics, nil)
	if status, _, body := serve(t, h, root, "GET", "/metrics", ""); status != 200 || body != "hactl_up 1\n" {
		t.Errorf("metrics: %d %q", status, body)
	}
	if status, _, _ := serve(t, h, other, "GET", "/metrics", ""); status != 403 {
		t.Errorf("metrics for a stranger: %d", status)
	}
}

func FuzzDecodePromote(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"for":"2h"}`, `{"for":90}`, `{"for":-1}`, `{"for":"1e400s"}`, `[]`, `{"for":null}`, "{\"for\":\"\x00\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req api.PromoteRequest
		_ = DecodeJSON(body, &req)
		b := &fakeBackend{}
		h := Handler(b, Policy{ReadGID: -1}, nil, nil)
		r := httptest.NewRequest("POST", "http://hactl/v1/instances/VI_1/promote", strings.NewReader(string(body)))
		r = r.WithContext(WithPeer(context.Background(), root))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if rec.Code == 400 && len(b.calls) != 0 {
			t.Fatalf("a refused body reached the backend: %q", body)
		}
	})
}
