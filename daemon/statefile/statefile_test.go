package statefile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

func TestWrite(t *testing.T) {
	since := time.Date(2026, 11, 25, 10, 0, 0, 0, time.FixedZone("X", 3600))
	st := api.Status{Daemon: api.Daemon{PID: 42}, Instances: []api.Instance{
		{Name: "VI_2", State: api.StateBackup, BasePriority: 100, EffectivePriority: 90, Since: since},
		{Name: "VI_1", State: api.StateMaster, BasePriority: 150, EffectivePriority: 152, Since: since},
	}}
	path := filepath.Join(t.TempDir(), "run", "state")
	if err := Write(path, st); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# hactl state, pid 42; NAME STATE PRIORITY EFFECTIVE SINCE\nVI_1 MASTER 150 152 2026-11-25T09:00:00Z\nVI_2 BACKUP 100 90 2026-11-25T09:00:00Z\n"
	if string(got) != want {
		t.Errorf("state file:\n%s\nwant:\n%s", got, want)
	}
	var back api.Status
	js, _ := os.ReadFile(path + ".json")
	if err := json.Unmarshal(js, &back); err != nil || len(back.Instances) != 2 || back.Daemon.PID != 42 {
		t.Errorf("json twin: %v %+v", err, back)
	}
	// Rewriting leaves no temporary files behind.
	st.Instances[0].State = api.StateMaster
	if err := Write(path, st); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want 2 (no temporaries)", len(entries))
	}
	Remove(path)
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
		t.Errorf("Remove left %d files", len(entries))
	}
}

func TestWriteFailsClearly(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o644)
	if err := Write(filepath.Join(blocker, "state"), api.Status{}); err == nil {
		t.Error("writing under a regular file: no error")
	}
}
