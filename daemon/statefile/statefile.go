// Package statefile writes the daemon's state file: one line per instance,
// `NAME STATE PRIORITY EFFECTIVE SINCE`, and a JSON twin beside it
// (PATH.json, the same document as GET /v1/status). Both are replaced
// atomically (write to a temporary file in the same directory, fsync,
// rename), so a reader never sees half a file. keepalived writes no such
// file; the runbook's "cat /var/run/keepalived/state" finds one here.
package statefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// Render returns the text state file for st: a comment header, then one
// line per instance sorted by name. SINCE is RFC 3339 in UTC.
func Render(st api.Status) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# hactl state, pid %d; NAME STATE PRIORITY EFFECTIVE SINCE\n", st.Daemon.PID)
	ins := append([]api.Instance(nil), st.Instances...)
	sort.Slice(ins, func(i, j int) bool { return ins[i].Name < ins[j].Name })
	for _, in := range ins {
		fmt.Fprintf(&b, "%s %s %d %d %s\n", in.Name, in.State, in.BasePriority, in.EffectivePriority, in.Since.UTC().Format(time.RFC3339))
	}
	return b.Bytes()
}

// Write replaces path with the text state and path.json with the JSON one.
func Write(path string, st api.Status) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := replace(path+".json", append(js, '\n')); err != nil {
		return err
	}
	return replace(path, Render(st))
}

// Remove deletes both files (at shutdown, so no stale state lingers).
func Remove(path string) {
	os.Remove(path)
	os.Remove(path + ".json")
}

func replace(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("state file %s: %w", path, werr)
	}
	return nil
}
