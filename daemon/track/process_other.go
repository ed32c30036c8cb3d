//go:build !linux

package track

import (
	"context"
	"errors"
)

// startProcesses reports that processes can be tracked on Linux only.
func (m *Monitor) startProcesses(context.Context) error {
	return errors.New("tracking processes is supported on Linux only")
}
