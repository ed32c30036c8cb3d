//go:build !linux

package chaos

import (
	"errors"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
)

type node struct {
	*netlab.Host
	prio     int
	bin      string
	interval time.Duration
}

var errUnsupported = errors.New("chaos runs need Linux network namespaces")

func (n *node) start() error          { return errUnsupported }
func (n *node) holds() bool           { return false }
func (n *node) signal(syscall.Signal) {}
func (n *node) wait()                 {}
func (n *node) stop()                 {}
func (n *node) heal()                 {}
