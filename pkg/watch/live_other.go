//go:build !linux

package watch

import (
	"net"
	"time"
)

// OpenLive fails here: packet sockets are Linux's.
func OpenLive([]string, func() time.Time) (LiveSource, error) { return nil, ErrLiveUnsupported }

// NeighbourMACs has no neighbour table to read here.
func NeighbourMACs(map[string]string, func(net.IP) string) {}
