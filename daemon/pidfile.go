//go:build linux

package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/hactl/hactl/daemon/runfile"
)

// writePID writes the daemon's pid file, refusing when another live daemon
// owns it. The old file is read without following a symlink or waiting on
// a FIFO, and the new one is written to a fresh temporary file renamed
// into place, so nothing planted at the path is followed.
func writePID(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := runfile.Read(path, 64)
	switch {
	case err == nil:
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != os.Getpid() && syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("pid file %s: daemon %d is still running (a second daemon needs its own --pid-file, --socket and --state-file)", path, pid)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		// A symlink or FIFO in the way is replaced below, not followed.
	}
	if err := runfile.Write(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644, -1); err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	return nil
}
