package netlab

import (
	"os"
	"testing"
)

func mkdir(p string) error { return os.MkdirAll(p, 0o755) }

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
