package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestGeneratedFilesAreFresh fails when completions/, docs/man/ or docs/cli/
// differ from what the command tree generates now. Fix: make completions docs.
func TestGeneratedFilesAreFresh(t *testing.T) {
	tmp := t.TempDir()
	gen := map[string]string{
		"../../completions": filepath.Join(tmp, "completions"),
		"../../docs/man":    filepath.Join(tmp, "man"),
		"../../docs/cli":    filepath.Join(tmp, "cli"),
	}
	if err := run(gen["../../completions"], gen["../../docs/man"], gen["../../docs/cli"]); err != nil {
		t.Fatal(err)
	}
	for committed, fresh := range gen {
		want := listDir(t, fresh)
		got := listDir(t, committed)
		if len(want) == 0 {
			t.Fatalf("%s: nothing generated", fresh)
		}
		for name, content := range want {
			have, ok := got[name]
			switch {
			case !ok:
				t.Errorf("%s/%s is missing: run make completions docs", committed, name)
			case !bytes.Equal(have, content):
				t.Errorf("%s/%s is stale: run make completions docs", committed, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s/%s is no longer generated: run make completions docs", committed, name)
			}
		}
	}
}

func TestManPagePerCommand(t *testing.T) {
	dir := t.TempDir()
	if err := writeMan(dir); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"hactl.1", "hactl-who-owns.1", "hactl-status.1", "hactl-failover.1", "hactl-restart-safe.1", "hactl-watch.1",
		"hactl-config-check.1", "hactl-config-show.1", "hactl-daemon.1", "hactl-lab-up.1", "hactl-lab-exec.1", "hactl-completion.1", "hactl-version.1"} {
		if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
			t.Errorf("no man page %s", page)
		}
	}
}

func listDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (run make completions docs)", err)
	}
	out := map[string][]byte{}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return out
}
