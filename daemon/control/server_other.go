//go:build !linux

package control

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Server is not available on this OS.
type Server struct {
	// Limits are unused on this OS.
	Limits Limits
}

// Listen reports that the control socket needs Linux.
func Listen(string, int) (*Server, error) {
	return nil, errors.New("the control socket is not supported on this OS (Linux only)")
}

// Path is empty on this OS.
func (s *Server) Path() string { return "" }

// Stats are zero on this OS.
func (s *Server) Stats() ConnStats { return ConnStats{} }

// Serve is not supported on this OS.
func (s *Server) Serve(http.Handler, *slog.Logger) error { return errors.ErrUnsupported }

// Shutdown is not supported on this OS.
func (s *Server) Shutdown(context.Context) error { return nil }
