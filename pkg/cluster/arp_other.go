//go:build !linux

package cluster

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// ErrARPUnsupported: --arp needs Linux (a packet socket).
var ErrARPUnsupported = errors.New("--arp is only supported on Linux")

// ARPProbe is not supported on this OS.
func ARPProbe(context.Context, string, []netip.Addr, time.Duration) (*ARPAnswer, error) {
	return nil, ErrARPUnsupported
}
