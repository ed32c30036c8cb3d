//go:build linux

package vip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// RoutePresent reports whether the kernel has r: a route of r's table
// and protocol with its destination, metric and TOS, on its interface
// when it names one. The dump asks the kernel to filter by table and
// protocol (NETLINK_GET_STRICT_CHK, Linux 4.20), so a host with a full
// routing table sends only the routes of our protocol; without strict
// checking the filtering is ours.
func (m *Manager) RoutePresent(r Route) (bool, error) {
	fam := unix.AF_INET
	if r.Dest.Addr().Is6() {
		fam = unix.AF_INET6
	}
	oif := 0
	if r.Dev != "" {
		i, err := m.ifindex("route "+r.String(), r.Dev)
		if err != nil {
			return false, err
		}
		oif = i
	}
	filter := &netlink.Route{Table: r.tableOrMain(), Protocol: netlink.RouteProtocol(r.Protocol)}
	found := false
	err := m.rt.RouteListFilteredIter(fam, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL, func(k netlink.Route) bool {
		if k.Dst == nil || k.Priority != r.kernelMetric() || k.Tos != int(r.Tos) || oif != 0 && k.LinkIndex != 0 && k.LinkIndex != oif {
			return true
		}
		bits, _ := k.Dst.Mask.Size()
		if bits != r.Dest.Bits() || !k.Dst.IP.Equal(net.IP(r.Dest.Addr().AsSlice())) {
			return true
		}
		found = true
		return false
	})
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return false, fmt.Errorf("route %s: %w", r, err)
	}
	return found, nil
}

// WatchRoutes calls gone with every route of protocol proto the kernel
// deletes in the calling thread's network namespace
// (RTNLGRP_IPV4_ROUTE/IPV6_ROUTE), and up with the name of every
// interface that comes up (RTNLGRP_LINK: IFF_UP set where it was not, or
// first seen up), from its own goroutine, until ctx ends; the other
// messages (a router's churn) are skipped unparsed. A full socket buffer
// (ENOBUFS: events lost) is reported to lost and the watch goes on;
// another error ends it, reported to lost.
func WatchRoutes(ctx context.Context, proto uint8, gone func(DeletedRoute), up func(dev string), lost func(error)) error {
	wasUp := map[int32]bool{}
	return watchNetlink(ctx, "route events", func(msg syscall.NetlinkMessage) {
		switch {
		case msg.Header.Type == unix.RTM_NEWLINK && len(msg.Data) >= unix.SizeofIfInfomsg:
			i := (*unix.IfInfomsg)(unsafe.Pointer(&msg.Data[0]))
			isUp := i.Flags&unix.IFF_UP != 0
			if isUp && !wasUp[i.Index] {
				if ifi, err := net.InterfaceByIndex(int(i.Index)); err == nil {
					up(ifi.Name)
				}
			}
			wasUp[i.Index] = isUp
		case msg.Header.Type == unix.RTM_DELLINK && len(msg.Data) >= unix.SizeofIfInfomsg:
			delete(wasUp, (*unix.IfInfomsg)(unsafe.Pointer(&msg.Data[0])).Index)
		case msg.Header.Type == unix.RTM_DELROUTE && len(msg.Data) >= 12 && msg.Data[5] == proto:
			if d, err := ParseRouteMessage(msg.Data); err == nil {
				if d.Oif != 0 {
					if ifi, err := net.InterfaceByIndex(d.Oif); err == nil {
						d.Dev = ifi.Name
					}
				}
				gone(d)
			}
		}
	}, lost, 1<<20, unix.RTNLGRP_IPV4_ROUTE, unix.RTNLGRP_IPV6_ROUTE, unix.RTNLGRP_LINK)
}

// watchNetlink subscribes to the NETLINK_ROUTE groups and calls handle
// with every message, from its own goroutine, until ctx ends. A full
// socket buffer (ENOBUFS: events lost) is reported to lost and the watch
// goes on; another error ends it, reported to lost. rcvbuf, when not 0,
// sizes the socket's receive buffer.
func watchNetlink(ctx context.Context, what string, handle func(syscall.NetlinkMessage), lost func(error), rcvbuf int, groups ...uint) error {
	s, err := nl.Subscribe(unix.NETLINK_ROUTE, groups...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if rcvbuf > 0 {
		_ = s.SetReceiveBufferSize(rcvbuf, false)
	}
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	go func() {
		for {
			msgs, _, err := s.Receive()
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, syscall.ENOBUFS) {
				lost(err)
				continue
			}
			if err != nil {
				lost(err)
				return
			}
			for _, m := range msgs {
				handle(m)
			}
		}
	}()
	return nil
}
