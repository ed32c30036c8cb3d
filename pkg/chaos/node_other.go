//go:build !linux

package chaos

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
)

type node struct {
	*netlab.Host
	prio       int
	desc       instanceDesc
	bin        string
	keepalived string
}

var errUnsupported = errors.New("chaos runs need Linux network namespaces")

func (n *node) isKeepalived() bool      { return n.keepalived != "" }
func (n *node) kind() string            { return "hactl" }
func (n *node) start() error            { return errUnsupported }
func (n *node) holds() bool             { return false }
func (n *node) signal(syscall.Signal)   {}
func (n *node) wait()                   {}
func (n *node) stop()                   {}
func (n *node) heal()                   {}
func (n *node) removeVIP()              {}
func (n *node) holdsOn() (bool, string) { return false, "" }

type dualRun struct {
	start, end time.Time
	owners     []string
	n          int
}

type dualSampler struct{}

func startSampler([]*node, netip.Addr) (*dualSampler, error) { return nil, errUnsupported }
func (*dualSampler) drain() []dualRun                        { return nil }
func (*dualSampler) stop() (int, int)                        { return 0, 0 }

// StartEtcd needs Linux network namespaces.
func StartEtcd(context.Context, []*netlab.Host, string) (Etcd, func(), error) {
	return nil, nil, errUnsupported
}
