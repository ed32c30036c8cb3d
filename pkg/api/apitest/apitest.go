// Package apitest serves misbehaving control sockets for tests of the
// control-API client and of the operator commands that use it: a socket
// that accepts and never answers, streams forever, answers garbage or an
// error (docs/security.md, a hostile node).
package apitest

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"testing"
)

// Serve listens on the unix socket at path and hands every connection to
// serve, after reading its HTTP request when readRequest is set (a
// connection whose request cannot be read is closed). t.Cleanup closes
// the listener and every connection and waits for the handlers.
func Serve(t testing.TB, path string, readRequest bool, serve func(c net.Conn)) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if readRequest {
					if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
						return
					}
				}
				serve(c)
			}()
		}
	}()
}
