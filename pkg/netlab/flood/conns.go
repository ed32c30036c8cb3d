package flood

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Conns floods the unix socket at path with idle connections: it dials up
// to n within limit (stopping at its own descriptor limit), waits for the
// server to close the ones it refuses, and returns those still open, and
// how many it dialed. The attack tests of the control socket's connection
// limits run it as another user (docs/security.md).
func Conns(path string, n int, limit time.Duration) (open []net.Conn, dialed int) {
	var conns []net.Conn
	deadline := time.Now().Add(limit)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
		if err != nil {
			if errors.Is(err, syscall.EMFILE) {
				break // the flooder's own descriptors
			}
			continue
		}
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond) // the server closes the refused ones at once
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			var b [1]byte
			if _, err := c.Read(b[:]); errors.Is(err, os.ErrDeadlineExceeded) {
				c.SetReadDeadline(time.Time{})
				mu.Lock()
				open = append(open, c)
				mu.Unlock()
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
	return open, len(conns)
}
