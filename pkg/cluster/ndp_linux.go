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

	"github.com/mdlayher/ndp"
	"golang.org/x/net/ipv6"
)

// NDPProbe is ARPProbe for IPv6: a neighbour solicitation for each of
// targets (the VIP first) to its solicited-node multicast group, from
// ifname (default: the interface of the route to the VIP), and every
// neighbour advertisement for a target within wait, by its target
// link-layer address. As a node's kernel answers for every address on
// the interface that hears the solicitation, two answering MACs mean two
// holders, exactly as two ARP replies do. Each solicitation is sent
// twice, wait/3 apart. It needs CAP_NET_RAW.
func NDPProbe(ctx context.Context, ifname string, targets []netip.Addr, wait time.Duration) (*ARPAnswer, error) {
	if len(targets) == 0 || !targets[0].Is6() || targets[0].Is4In6() {
		return nil, errors.New("neighbour solicitation asks for IPv6 addresses only")
	}
	ifname, err := probeInterface(ifname, targets[0])
	if err != nil {
		return nil, err
	}
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("--interface %s: %w", ifname, err)
	}
	// The link-local address is the one RFC 4861 expects as the source of
	// a solicitation; a global one serves an interface without it.
	c, src, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil {
		var err2 error
		if c, src, err2 = ndp.Listen(ifi, ndp.Global); err2 != nil {
			return nil, fmt.Errorf("neighbour discovery on %s: %w", ifname, err)
		}
	}
	defer c.Close()
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeNeighborAdvertisement)
	if err := c.SetICMPFilter(&f); err != nil {
		return nil, fmt.Errorf("neighbour discovery on %s: %w", ifname, err)
	}
	ans := &ARPAnswer{Interface: ifname, Protocol: ProtoNDP, Replies: map[netip.Addr][]string{}}
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	send := func() error {
		for _, t := range targets {
			group, err := ndp.SolicitedNodeMulticast(t)
			if err != nil {
				return fmt.Errorf("solicitation for %s: %w", t, err)
			}
			ns := &ndp.NeighborSolicitation{
				TargetAddress: t,
				Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: ifi.HardwareAddr}},
			}
			if err := c.WriteTo(ns, nil, group); err != nil {
				return fmt.Errorf("neighbour solicitation for %s on %s (from %s): %w", t, ifname, src, err)
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
	own := strings.ToLower(ifi.HardwareAddr.String())
	for {
		m, _, _, err := c.ReadFrom()
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
			continue
		}
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok || !slices.Contains(targets, na.TargetAddress) {
			continue
		}
		mac := naTargetMAC(na)
		if mac == "" || mac == own {
			// RFC 4861 7.2.4: an answer to a multicast solicitation
			// carries the target link-layer address; one without it
			// names nobody.
			continue
		}
		if !slices.Contains(ans.Replies[na.TargetAddress], mac) {
			ans.Replies[na.TargetAddress] = append(ans.Replies[na.TargetAddress], mac)
		}
	}
}

// naTargetMAC is the target link-layer address of na, lower case, or "".
func naTargetMAC(na *ndp.NeighborAdvertisement) string {
	for _, o := range na.Options {
		if l, ok := o.(*ndp.LinkLayerAddress); ok && l.Direction == ndp.Target {
			return strings.ToLower(l.Addr.String())
		}
	}
	return ""
}
