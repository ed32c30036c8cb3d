//go:build !linux

package vmac

import (
	"errors"
	"log/slog"
)

// errUnsupported: macvlan interfaces are a Linux feature.
var errUnsupported = errors.New("use_vmac is not supported on this OS (Linux only: VMACs are macvlan interfaces)")

// Manager is not available on this OS.
type Manager struct{}

// New reports that VMACs need Linux.
func New(*slog.Logger) (*Manager, error) { return nil, errUnsupported }

// Ensure reports that VMACs need Linux.
func (m *Manager) Ensure(Want, map[string]bool) (string, error) { return "", errUnsupported }

// Recreate reports that VMACs need Linux.
func (m *Manager) Recreate(string) (bool, error) { return false, errUnsupported }

// Base is empty.
func (m *Manager) Base(string) string { return "" }

// Restore does nothing.
func (m *Manager) Restore([]Sysctl) {}

// Saved is empty.
func (m *Manager) Saved() []Sysctl { return nil }

// WriteSysctls reports that VMACs need Linux.
func WriteSysctls([]Sysctl) error { return errUnsupported }

// Close does nothing.
func (m *Manager) Close() error { return nil }
