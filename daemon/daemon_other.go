//go:build !linux

package daemon

import (
	"context"
	"errors"
)

// Run reports that the daemon needs Linux (raw sockets, netlink).
func Run(context.Context, Options) error {
	return errors.New("hactl daemon is not supported on this OS: it needs Linux (raw sockets, netlink); the operator commands work here")
}
