//go:build linux

package daemon

import (
	"os"
	"path/filepath"

	"github.com/hactl/hactl/daemon/runfile"
)

// checkRunDirs creates the directories of the daemon's files (the control
// socket, the pid file, the state file and the promotions beside it) and
// refuses to start when another local user could change one of them: a
// symlink or FIFO planted there could redirect what the daemon writes.
func checkRunDirs(paths ...string) error {
	seen := map[string]bool{}
	for _, p := range paths {
		if p == "" {
			continue
		}
		dir := filepath.Dir(p)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := runfile.CheckDir(dir); err != nil {
			return err
		}
	}
	return nil
}
