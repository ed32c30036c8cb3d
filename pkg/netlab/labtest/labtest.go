// Package labtest holds the test helpers for end-to-end tests that need a
// network-namespace lab: the root check (skip locally, fail under CI=true),
// and a lab that is torn down by t.Cleanup even when the test fails.
package labtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/hactl/hactl/pkg/netlab"
)

// InCI reports whether the tests run under CI=true, where a test that cannot
// run must fail rather than skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require stops the test unless it can build labs: Linux, root, not -short,
// and the named programs on PATH. Locally it skips with the reason; under
// CI=true it fails with it (a -short run is a deliberate choice and skips).
func Require(t testing.TB, programs ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	reason := ""
	switch {
	case runtime.GOOS != "linux":
		reason = "needs Linux network namespaces"
	case os.Geteuid() != 0:
		reason = "needs root to create network namespaces (run: sudo make test-e2e)"
	default:
		for _, p := range append([]string{"ip"}, programs...) {
			if _, err := exec.LookPath(p); err != nil {
				reason = "needs " + p + " on PATH (make deps installs it)"
				break
			}
		}
	}
	if reason == "" {
		return
	}
	if InCI() {
		t.Fatalf("CI=true and this end-to-end test cannot run: %s", reason)
	}
	t.Skip(reason)
}

// Name returns a fresh lab name for a test: "t" and 8 hex digits.
func Name(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b)
}

// Up builds a lab for the test and registers its teardown. Labs left by
// crashed test runs (owner process gone) are removed first. cfg.Name is
// filled in when empty; cfg.Root defaults to netlab.DefaultRoot.
func Up(t testing.TB, cfg netlab.Config) *netlab.Lab {
	t.Helper()
	Require(t)
	if removed, err := netlab.Cleanup(cfg.Root); err != nil {
		t.Logf("cleaning stale labs %v: %v", removed, err)
	} else if len(removed) > 0 {
		t.Logf("removed stale labs left by a crashed run: %v", removed)
	}
	if cfg.Name == "" {
		cfg.Name = Name(t)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	l, err := netlab.Up(context.Background(), cfg)
	if err != nil {
		t.Fatalf("lab up: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Down(); err != nil {
			t.Errorf("lab %s down: %v", l.Name, err)
		}
	})
	return l
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
