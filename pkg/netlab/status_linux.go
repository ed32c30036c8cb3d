//go:build linux

package netlab

import (
	"os"
	"path/filepath"
)

// Status checks that the lab's namespaces exist and its sshds run.
func (l *Lab) Status() LabStatus {
	st := LabStatus{Lab: l, Healthy: true}
	for _, h := range l.Hosts() {
		hs := HostStatus{Host: h}
		_, err := os.Stat(filepath.Join(netnsDir, h.Netns))
		hs.NetnsExists = err == nil
		hs.SSHDRunning = h.SSHDPID != 0 && processAlive(h.SSHDPID)
		if !hs.NetnsExists || (l.Identity != "" && h != l.Operator && !hs.SSHDRunning) {
			st.Healthy = false
		}
		st.Hosts = append(st.Hosts, hs)
	}
	return st
}
