//go:build !linux

package garp

import (
	"errors"
	"log/slog"
	"net/netip"
)

// Announcer is not available on this OS.
type Announcer struct{}

// New returns an Announcer that cannot send.
func New(string, *slog.Logger) *Announcer { return &Announcer{} }

// Announce reports that announcements need Linux.
func (a *Announcer) Announce([]netip.Addr) error {
	return errors.New("gratuitous ARP is not supported on this OS (Linux only)")
}

// Close does nothing.
func (a *Announcer) Close() error { return nil }
