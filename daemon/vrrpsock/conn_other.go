//go:build !linux

package vrrpsock

import "errors"

// Conn is not available on this OS.
type Conn struct{}

// Listen reports that VRRP sockets need Linux.
func Listen(string, int) (*Conn, error) {
	return nil, errors.New("VRRP sockets are not supported on this OS (Linux only)")
}

// ListenAH reports that VRRP sockets need Linux.
func ListenAH(string) (*Conn, error) { return Listen("", 4) }
