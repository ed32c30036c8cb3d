package daemon

import (
	"net/netip"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/daemon/vmac"
)

// What the loop does to the world, narrowed to what it calls. The daemon
// wires in the kernel's (netlink, raw sockets, packet sockets: Run, in
// daemon.go and sockets.go); the loop tests a fake kernel
// (fakekernel_test.go).

// vipTable adds and removes the VIPs, virtual routes and rules (and the
// static ones):
// *vip.Manager.
type vipTable interface {
	Add(v vip.VIP, lease vip.Lifetime) error
	Refresh(v vip.VIP, lease vip.Lifetime) error
	Remove(v vip.VIP) error
	// Present reports whether v is on its interface (and its prefix
	// length as installed).
	Present(v vip.VIP) (bool, int, error)
	AddRoute(r vip.Route) error
	RemoveRoute(r vip.Route) error
	AddRule(r vip.Rule) error
	RemoveRule(r vip.Rule) error
	// RulePresent reports whether the kernel has r.
	RulePresent(r vip.Rule) (bool, error)
	// RoutePresent reports whether the kernel has r.
	RoutePresent(r vip.Route) (bool, error)
}

// advertConn is the send side of an advert socket: *vrrpsock.Conn. Its
// read side is a goroutine posting receive events (readLoop); a fake
// posts them itself.
type advertConn interface {
	WriteTo(payload []byte, src, dst netip.Addr) error
	// JoinGroup joins a multicast group once per socket.
	JoinGroup(group netip.Addr) error
	Close() error
}

// announcer sends gratuitous ARPs / unsolicited NAs for addresses:
// *garp.Announcer. Announce runs off the loop (announce.go).
type announcer interface {
	Announce(addrs []netip.Addr) error
	Close() error
}

// vmacTable creates the VMAC interfaces of use_vmac and removes them all
// at Close: *vmac.Manager.
type vmacTable interface {
	Ensure(w vmac.Want, taken map[string]bool) (string, error)
	// Recreate makes a VMAC Ensure made again if it is gone (deleted
	// under us); Base names its base interface (vmacs.go).
	Recreate(name string) (bool, error)
	Base(name string) string
	// Restore and Saved carry the base interfaces' original sysctls
	// across a crash (vmacs.go).
	Restore(saved []vmac.Sysctl)
	Saved() []vmac.Sysctl
	Close() error
}
