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
	"github.com/hactl/hactl/daemon/vrrpsock"
	"github.com/hactl/hactl/pkg/config"
)

func (r *runtime) openSockets(ctx context.Context) error {
	for _, c := range r.cfg.Instances {
		fam := 4
		if c.Family == config.FamilyIPv6 {
			fam = 6
		}
		key := sockKey{c.Interface, fam}
		s, ok := r.socks[key]
		if !ok {
			ifi, err := net.InterfaceByName(c.Interface)
			if err != nil {
				return fmt.Errorf("%s: interface %s: %w", c.Name, c.Interface, err)
			}
			conn, err := vrrpsock.Listen(c.Interface, fam)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			s = &sock{key: key, ifi: ifi, family: fam, conn: conn, byVRID: map[uint8]*instance{}, joined: map[netip.Addr]bool{}}
			r.socks[key] = s
			go r.readLoop(ctx, s, conn)
		}
		if !c.Unicast && !s.joined[c.McastGroup] {
			if err := s.conn.JoinGroup(c.McastGroup); err != nil {
				return fmt.Errorf("%s: join %s on %s: %w", c.Name, c.McastGroup, c.Interface, err)
			}
			s.joined[c.McastGroup] = true
		}
		in, err := newInstance(c, s)
		if err != nil {
			return err
		}
		if other, dup := s.byVRID[uint8(c.VRID)]; dup {
			return fmt.Errorf("%s: VRID %d on %s is also used by %s", c.Name, c.VRID, c.Interface, other.c.Name)
		}
		s.byVRID[uint8(c.VRID)] = in
		// One announcer per interface, shared by its instances: each opens
		// a packet socket (which the kernel hands every ARP on the link)
		// and looks up the interface's addresses, which with one VIP per
		// instance made a 100-instance start parse 100 address dumps.
		if r.garps[c.Interface] == nil {
			r.garps[c.Interface] = garp.New(c.Interface, r.log)
		}
		in.garp = r.garps[c.Interface]
		r.insts = append(r.insts, in)
		r.byName[c.Name] = in
	}
	return nil
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
		payload := append([]byte(nil), p.Payload...)
		p.Payload = payload
		if !r.post(func(r *runtime) { r.receive(s, p) }) {
			return
		}
	}
}

func (r *runtime) closeSockets() {
	for _, s := range r.socks {
		s.conn.Close()
	}
}
