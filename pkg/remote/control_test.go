package remote

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestControlAddr(t *testing.T) {
	for _, tc := range []struct {
		n    Node
		want string
	}{
		{Node{Host: "10.0.0.1", User: "root"}, "10.0.0.1:922"},
		{Node{Host: "10.0.0.1", User: "root", ControlPort: 2922}, "10.0.0.1:2922"},
		{Node{Host: "fd00::1", User: "root"}, "[fd00::1]:922"},
		{Node{Host: "10.0.0.1", User: "root", ControlPort: -1}, ""},
		{Node{Host: "10.0.0.1", User: "admin"}, ""}, // only root's keys log in there
	} {
		if got := tc.n.controlAddr(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.n, got, tc.want)
		}
	}
}

// A refused control port is remembered: the sshd connection is dialed
// next, and a second socket call does not try the control port again.
func TestControlPortRefusedFallsBack(t *testing.T) {
	var dials []string
	refuse := func(_ context.Context, _, addr string) (net.Conn, error) {
		dials = append(dials, addr)
		return nil, errors.New("connection refused")
	}
	p := NewPool(Config{Timeout: time.Second, Dialer: refuse, AgentSocket: "none"})
	defer p.Close()
	c := p.Client(Node{Name: "n1", Host: "192.0.2.1", Port: 22, User: "root"})
	for range 2 {
		if _, err := c.DialSocket(context.Background(), ""); err == nil {
			t.Fatal("no error")
		}
	}
	if len(dials) != 2 || dials[0] != "192.0.2.1:922" || dials[1] != "192.0.2.1:22" {
		t.Errorf("dials %v, want 922 then 22, once each", dials)
	}
}
