package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDurationJSON(t *testing.T) {
	for in, want := range map[string]time.Duration{`"2h"`: 2 * time.Hour, `"90s"`: 90 * time.Second, `90`: 90 * time.Second, `1.5`: 1500 * time.Millisecond} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || time.Duration(d) != want {
			t.Errorf("%s: %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, bad := range []string{`"soon"`, `true`, `{}`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	b, _ := json.Marshal(PromoteRequest{For: Duration(90 * time.Minute)})
	if string(b) != `{"for":"1h30m0s"}` {
		t.Errorf("marshal: %s", b)
	}
}

func TestErrorDecoding(t *testing.T) {
	err := decodeError(404, []byte(`{"status":404,"code":"not_found","error":"instance \"VI_9\": not found"}`))
	if e, ok := err.(*Error); !ok || e.Code != "not_found" || !strings.Contains(err.Error(), "VI_9") {
		t.Errorf("%#v", err)
	}
	err = decodeError(502, []byte("bad gateway\n"))
	if e, ok := err.(*Error); !ok || e.Status != 502 || e.Message != "bad gateway" {
		t.Errorf("plain body: %#v", err)
	}
}
