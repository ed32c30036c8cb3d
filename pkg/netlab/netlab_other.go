//go:build !linux

package netlab

import (
	"context"
	"net"
	"os/exec"
)

// Up is not supported on this OS.
func Up(context.Context, Config) (*Lab, error) { return nil, ErrUnsupported }

// Down is not supported on this OS.
func (l *Lab) Down() error { return ErrUnsupported }

// Status is not supported on this OS; it reports an unhealthy lab.
func (l *Lab) Status() LabStatus { return LabStatus{Lab: l} }

// Destroy is not supported on this OS.
func Destroy(string, string) error { return ErrUnsupported }

// Cleanup is not supported on this OS.
func Cleanup(string) ([]string, error) { return nil, ErrUnsupported }

// Stale finds nothing on this OS.
func Stale(string) []string { return nil }

// LabNames finds nothing on this OS.
func LabNames() []string { return nil }

// Command is not supported on this OS: the command fails when run.
func (h *Host) Command(ctx context.Context, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "/nonexistent/netlab-unsupported")
}

// Run is not supported on this OS.
func (h *Host) Run(context.Context, ...string) ([]byte, error) { return nil, ErrUnsupported }

// Dial is not supported on this OS.
func (h *Host) Dial(context.Context, string, string) (net.Conn, error) { return nil, ErrUnsupported }

// Proc is a process in a lab host; none can start on this OS.
type Proc struct{}

// Start is not supported on this OS.
func (h *Host) Start(string, ...string) (*Proc, error) { return nil, ErrUnsupported }

// InUse is false on this OS.
func (l *Lab) InUse() bool { return false }
