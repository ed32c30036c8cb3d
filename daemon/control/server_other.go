//go:build !linux

package control

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Server is not available on this OS.
type Server struct{}

// Listen reports that the control socket needs Linux.
func Listen(string, int) (*Server, error) {
	return nil, errors.New("the control socket is not supported on this OS (Linux only)")
}

// Serve is not supported on this OS.
func (s *Server) Serve(http.Handler, *slog.Logger) error { return errors.ErrUnsupported }

// Shutdown is not supported on this OS.
func (s *Server) Shutdown(context.Context) error { return nil }
