//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"
)

// ARPProbe asks the segment by ARP who has each IPv4 address of targets
// (the VIP first, then the nodes' own addresses), from interface ifname
// (default: the interface of the route to the first target), and collects
// every reply for wait. Each request is sent twice, wait/3 apart, so one
// lost frame does not hide a holder. IPv6 targets are skipped (no NDP).
// It needs CAP_NET_RAW.
func ARPProbe(ctx context.Context, ifname string, targets []netip.Addr, wait time.Duration) (*ARPAnswer, error) {
	var v4 []netip.Addr
	for _, t := range targets {
		if t = t.Unmap(); t.Is4() {
			v4 = append(v4, t)
		}
	}
	if len(v4) == 0 || !targets[0].Unmap().Is4() {
		return nil, errors.New("--arp asks for IPv4 addresses only (IPv6 neighbour discovery is not implemented)")
	}
	if ifname == "" {
		routes, err := netlink.RouteGet(v4[0].AsSlice())
		if err != nil || len(routes) == 0 {
			return nil, fmt.Errorf("no route to %s to pick an interface for ARP (name one with --interface): %v", v4[0], err)
		}
		link, err := netlink.LinkByIndex(routes[0].LinkIndex)
		if err != nil {
			return nil, fmt.Errorf("interface of the route to %s: %w", v4[0], err)
		}
		ifname = link.Attrs().Name
	}
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("--interface %s: %w", ifname, err)
	}
	c, err := arp.Dial(ifi)
	if err != nil {
		return nil, fmt.Errorf("ARP on %s: %w", ifname, err)
	}
	defer c.Close()
	ans := &ARPAnswer{Interface: ifname, Replies: map[netip.Addr][]string{}}
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	send := func() error {
		for _, t := range v4 {
			if err := c.Request(t); err != nil {
				return fmt.Errorf("ARP request for %s on %s: %w", t, ifname, err)
			}
		}
		return nil
	}
	if err := send(); err != nil {
		return nil, err
	}
	resend := time.AfterFunc(wait/3, func() { _ = send() })
	defer resend.Stop()
	if err := c.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	own := strings.ToLower(c.HardwareAddr().String())
	for {
		p, _, err := c.Read()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return ans, nil
			}
			if ctx.Err() != nil {
				return ans, ctx.Err()
			}
			if time.Now().After(deadline) {
				return ans, nil
			}
			continue // a malformed frame
		}
		if p.Operation != arp.OperationReply {
			continue
		}
		mac := strings.ToLower(p.SenderHardwareAddr.String())
		if mac == own || !slices.Contains(v4, p.SenderIP) {
			continue
		}
		if !slices.Contains(ans.Replies[p.SenderIP], mac) {
			ans.Replies[p.SenderIP] = append(ans.Replies[p.SenderIP], mac)
		}
	}
}
