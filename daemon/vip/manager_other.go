//go:build !linux

package vip

import (
	"errors"
	"log/slog"
)

// Manager is not available on this OS.
type Manager struct{}

// New reports that VIPs need Linux.
func New(*slog.Logger) (*Manager, error) {
	return nil, errors.New("virtual IPs through netlink are not supported on this OS (Linux only)")
}
