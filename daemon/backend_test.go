package daemon

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/daemon/control"
	"github.com/hactl/hactl/pkg/api"
)

// TestBackendWedgedLoop: a loop that does not take the request is
// answered with ErrUnavailable after loopAnswer, and the API says 503 with
// the reason, well within the CLI's 5 s default timeout; a stopped loop is
// unavailable at once.
func TestBackendWedgedLoop(t *testing.T) {
	r := &runtime{events: make(chan event, 1), done: make(chan struct{})} // nobody reads events
	b := backend{r}
	start := time.Now()
	_, err := b.Status()
	if took := time.Since(start); !errors.Is(err, control.ErrUnavailable) || took < loopAnswer || took > loopAnswer+time.Second {
		t.Fatalf("Status on a wedged loop: %v after %v, want ErrUnavailable after %v", err, took, loopAnswer)
	}
	if !strings.Contains(err.Error(), "did not answer within 2s") {
		t.Errorf("error %q does not say what happened", err)
	}

	h := control.Handler(reloadingBackend{backend: b}, control.Policy{ReadGID: -1}, nil, nil)
	for _, path := range []string{api.PathStatus, api.PathInstance + "VI_1"} {
		req := httptest.NewRequest("GET", "http://hactl"+path, nil)
		req = req.WithContext(control.WithPeer(req.Context(), control.Peer{UID: 0}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var e api.Error
		if rec.Code != http.StatusServiceUnavailable || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Code != "unavailable" {
			t.Errorf("GET %s on a wedged loop: %d %s, want 503 unavailable", path, rec.Code, rec.Body.String())
		}
	}

	close(r.done)
	start = time.Now()
	if _, err := b.Instance("VI_1"); !errors.Is(err, control.ErrUnavailable) || time.Since(start) > time.Second {
		t.Errorf("Instance on a stopped loop: %v after %v, want ErrUnavailable at once", err, time.Since(start))
	}
}
