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

// ARPProbe asks the segment who has each address of targets (the VIP
// first, then the nodes' own addresses), from interface ifname (default:
// the interface of the route to the first target), and collects every
// answer for wait. An IPv4 VIP is asked by ARP (its IPv4 targets); an IPv6
// VIP by neighbour solicitation (NDPProbe, its IPv6 targets). Each request
// is sent twice, wait/3 apart, so one lost frame does not hide a holder.
// It needs CAP_NET_RAW.
func ARPProbe(ctx context.Context, ifname string, targets []netip.Addr, wait time.Duration) (*ARPAnswer, error) {
	if len(targets) == 0 {
		return nil, errors.New("--arp: no address to ask for")
	}
	if targets[0].Unmap().Is6() {
		var v6 []netip.Addr
		for _, t := range targets {
			if t.Unmap().Is6() {
				v6 = append(v6, t.WithZone(""))
			}
		}
		return NDPProbe(ctx, ifname, v6, wait)
	}
	var v4 []netip.Addr
	for _, t := range targets {
		if t = t.Unmap(); t.Is4() {
			v4 = append(v4, t)
		}
	}
	ifname, err := probeInterface(ifname, v4[0])
	if err != nil {
		return nil, err
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

// probeInterface is ifname, or the interface of the route to first.
func probeInterface(ifname string, first netip.Addr) (string, error) {
	if ifname != "" {
		return ifname, nil
	}
	routes, err := netlink.RouteGet(first.AsSlice())
	if err != nil || len(routes) == 0 {
		return "", fmt.Errorf("no route to %s to pick an interface for --arp (name one with --interface): %v", first, err)
	}
	link, err := netlink.LinkByIndex(routes[0].LinkIndex)
	if err != nil {
		return "", fmt.Errorf("interface of the route to %s: %w", first, err)
	}
	return link.Attrs().Name, nil
}
