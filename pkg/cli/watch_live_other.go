//go:build !linux

package cli

import (
	"errors"
	"net"
	"time"
)

// errLiveUnsupported is returned for live capture where packet sockets do
// not exist.
var errLiveUnsupported = errors.New("live capture is not supported on this OS (Linux only); read a tcpdump capture with --file")

func openLive([]string, func() time.Time) (liveSource, error) { return nil, errLiveUnsupported }

// neighbourMACs has no neighbour table to read here.
func neighbourMACs(map[string]string, func(net.IP) string) {}
