package netlab

import (
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsCallback checks host keys strictly against file: unknown and
// changed keys are both refused.
func knownHostsCallback(file string) (ssh.HostKeyCallback, error) {
	return knownhosts.New(file)
}
