//go:build linux

package netlab

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
)

// cheapShellArgv wraps sshd's argv for Config.CheapShell: /dev/null is
// bind-mounted over root's ~/.bashrc, then sshd is exec'd. Host.Start runs
// it through `ip netns exec`, which gives the process a mount namespace of
// its own whose mounts are slaves of the host's: the bind mount is seen by
// this sshd and the shells it starts, never by the host or other nodes,
// and it goes away with the last of them.
//
// Only ~/.bashrc matters: sshd runs a remote command as `bash -c CMD`,
// which reads no profile, but Debian's bash reads ~/.bashrc when it sees
// it was started by sshd (SSH_SOURCE_BASHRC).
func cheapShellArgv(argv []string) ([]string, error) {
	u, err := user.Lookup("root")
	if err != nil {
		return nil, fmt.Errorf("cheap shell: %w", err)
	}
	rc := filepath.Join(u.HomeDir, ".bashrc")
	if _, err := os.Stat(rc); err != nil {
		return argv, nil // nothing to hide
	}
	script := `mount --bind /dev/null "$0" || exit 1; exec "$@"`
	return append([]string{"/bin/sh", "-c", script, rc}, argv...), nil
}
