//go:build linux

package garp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
)

// Announcer sends announcements on one interface; it is safe for
// concurrent use. Its sockets are opened
// on first use, in the namespace of the calling thread, and kept.
type Announcer struct {
	mu     sync.Mutex // Announce may be called from overlapping bursts
	ifname string
	log    *slog.Logger
	ifi    *net.Interface
	arp    *arp.Client
	ndp    *ndp.Conn
}

// New returns an Announcer for ifname.
func New(ifname string, log *slog.Logger) *Announcer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Announcer{ifname: ifname, log: log}
}

// Announce sends one gratuitous ARP or unsolicited NA per address. It
// tries every address and returns the errors joined.
func (a *Announcer) Announce(addrs []netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs error
	for _, ip := range addrs {
		var err error
		if ip.Is4() {
			err = a.garp(ip)
		} else {
			err = a.unsolicitedNA(ip)
		}
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("announce %s on %s: %w", ip, a.ifname, err))
		}
	}
	return errs
}

func (a *Announcer) iface() (*net.Interface, error) {
	if a.ifi == nil {
		ifi, err := net.InterfaceByName(a.ifname)
		if err != nil {
			return nil, err
		}
		a.ifi = ifi
	}
	return a.ifi, nil
}

// garp sends an ARP request whose sender and target are the VIP, to the
// broadcast address: the form RFC 5227 calls an announcement.
func (a *Announcer) garp(ip netip.Addr) error {
	ifi, err := a.iface()
	if err != nil {
		return err
	}
	if a.arp == nil {
		c, err := arp.Dial(ifi)
		if err != nil {
			return err
		}
		a.arp = c
	}
	p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, ip, ethernet.Broadcast, ip)
	if err != nil {
		return err
	}
	return a.arp.WriteTo(p, ethernet.Broadcast)
}

// unsolicitedNA sends a neighbour advertisement for ip with the override
// flag and our MAC to all nodes (RFC 4861 §7.2.6).
func (a *Announcer) unsolicitedNA(ip netip.Addr) error {
	ifi, err := a.iface()
	if err != nil {
		return err
	}
	if a.ndp == nil {
		c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
		if err != nil {
			// An interface without a link-local address (a VMAC whose
			// adverts go out of its base, vmac_xmit_base): send from the
			// address announced, as keepalived's vrrp_ndisc.c does.
			var err2 error
			if c, _, err2 = ndp.Listen(ifi, ndp.Addr(ip.String())); err2 != nil {
				return errors.Join(err, err2)
			}
		}
		a.ndp = c
	}
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: ifi.HardwareAddr}},
	}
	return a.ndp.WriteTo(na, nil, netip.IPv6LinkLocalAllNodes())
}

// Close releases the sockets.
func (a *Announcer) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs error
	if a.arp != nil {
		errs = errors.Join(errs, a.arp.Close())
		a.arp = nil
	}
	if a.ndp != nil {
		errs = errors.Join(errs, a.ndp.Close())
		a.ndp = nil
	}
	a.ifi = nil // a later Announce finds the interface again (a VMAC made again)
	return errs
}
