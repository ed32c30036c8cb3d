//go:build linux

package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/hactl/hactl/daemon/garp"
	"github.com/hactl/hactl/daemon/vmac"
	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/config"
)

// openSockets creates the VMACs (use_vmac, vmacs.go), opens one raw
// socket per interface and family (its reader posting to the loop; a
// VMAC that sends adverts has its own) and one announcer per interface,
// and builds the instances on them (buildInstances).
func (r *runtime) openSockets(ctx context.Context) error {
	newTable := func() (vmacTable, error) { return vmac.New(r.log) }
	if err := r.setupVMACs(baseLinkLocal, newTable); err != nil {
		return err
	}
	listen := func(c *config.Instance, key sockKey) (*sock, error) {
		ifi, err := net.InterfaceByName(key.ifname)
		if err != nil {
			return nil, fmt.Errorf("%s: interface %s: %w", c.Name, key.ifname, err)
		}
		conn, err := listenConn(key.ifname, key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		s := &sock{key: key, ifi: ifi, family: key.family, conn: conn, byVRID: map[uint8]*instance{}, joined: map[netip.Addr]bool{}}
		go r.readLoop(ctx, s, conn)
		return s, nil
	}
	// A VMAC deleted under us and made again has a new ifindex: its
	// socket is opened again (vmacs.go, recreateVMAC).
	r.reopen = func(s *sock) error {
		ifi, err := net.InterfaceByName(s.key.ifname)
		if err != nil {
			return err
		}
		conn, err := listenConn(s.key.ifname, s.key)
		if err != nil {
			return err
		}
		for g := range s.joined {
			if err := conn.JoinGroup(g); err != nil {
				conn.Close()
				return err
			}
		}
		s.conn.Close()
		s.conn, s.ifi = conn, ifi
		go r.readLoop(ctx, s, conn)
		return nil
	}
	return r.buildInstances(listen, func(ifname string) announcer { return garp.New(ifname, r.log) })
}

// readLoop reads one socket and posts every packet to the loop.
func (r *runtime) readLoop(ctx context.Context, s *sock, conn *vrrpsock.Conn) {
	buf := make([]byte, 65536)
	for {
		p, err := conn.ReadPacket(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Warn("vrrp socket read", "interface", s.key.ifname, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if d := uint64(p.QueueDrops); d > s.queueDrops.Load() {
			s.queueDrops.Store(d) // only this goroutine stores
		}
		p = p.Clone()
		if !r.post(func(r *runtime) { r.receive(s, p) }) {
			return
		}
	}
}

// baseLinkLocal is an interface's first IPv6 link-local address and its
// MAC, for a VMAC that sends from a link-local address (vmacWants).
func baseLinkLocal(dev string) (netip.Addr, []byte) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return netip.Addr{}, nil
	}
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Is6() && ip.IsLinkLocalUnicast() {
				return ip, ifi.HardwareAddr
			}
		}
	}
	return netip.Addr{}, ifi.HardwareAddr
}
