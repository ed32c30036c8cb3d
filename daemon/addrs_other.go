//go:build !linux

package daemon

import (
	"errors"

	"github.com/hactl/hactl/pkg/api"
)

// readInterfaces needs netlink.
func readInterfaces() ([]api.Interface, error) {
	return nil, errors.New("reading interfaces is not supported on this OS: it needs Linux (netlink)")
}
