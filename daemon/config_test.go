package daemon

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadConfigCorrections: loadConfig (the start and every reload) runs
// a config keepalived corrects, with keepalived's corrections, logging
// each once; with strict it refuses it, naming each.
func TestLoadConfigCorrections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.conf")
	conf := `vrrp_instance VI_1 {
    interface lo
    state Master
    virtual_router_id 51
    priorty 90
    virtual_ipaddress {
        192.0.2.10/24
    }
}
`
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg, diags, err := loadConfig(context.Background(), path, log, false)
	if err != nil {
		t.Fatal(err)
	}
	if in := cfg.Instances[0]; in.State != "BACKUP" || in.Priority != 100 {
		t.Errorf("state %s priority %d, want keepalived's BACKUP 100", in.State, in.Priority)
	}
	if len(diags.Corrected()) != 2 {
		t.Errorf("corrections: %s", diags)
	}
	for _, want := range []string{"k.conf:3:11: corrected: unknown state", "k.conf:5:5: corrected: unknown keyword"} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("log has %q %d times, want once:\n%s", want, n, logs.String())
		}
	}

	logs.Reset()
	_, _, err = loadConfig(context.Background(), path, log, true)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--strict") ||
		!strings.Contains(err.Error(), "k.conf:3:11: corrected: unknown state") || !strings.Contains(err.Error(), "k.conf:5:5: corrected: unknown keyword") {
		t.Errorf("strict: %v", err)
	}
}
