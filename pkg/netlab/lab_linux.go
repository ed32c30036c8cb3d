//go:build linux

package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Up builds a lab as c describes. On failure everything it made is torn
// down again, so a failed Up leaves nothing behind.
func Up(ctx context.Context, c Config) (l *Lab, err error) {
	if err := c.setDefaults(); err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("building a lab needs root (network namespaces, veth, bridges)")
	}
	l = plan(c)
	if existing := namespacesWithPrefix(Prefix + l.Name + "-"); len(existing) > 0 {
		return nil, fmt.Errorf("lab %s already exists (%d namespaces); remove it with: hactl lab down --name %s", l.Name, len(existing), l.Name)
	}
	// lab.json comes first, naming the owner, so that a concurrent Cleanup
	// never mistakes a lab being built for a crashed one.
	for _, h := range l.Hosts() {
		if err := os.MkdirAll(h.Dir, 0o755); err != nil {
			return nil, err
		}
	}
	if err := l.save(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			if derr := l.Down(); derr != nil {
				err = fmt.Errorf("%w (and teardown: %v)", err, derr)
			}
			l = nil
		}
	}()
	l.log.Info("building lab", "name", l.Name, "nodes", len(l.Nodes), "subnet4", l.Subnet4, "subnet6", l.Subnet6)
	if err := l.buildNetwork(); err != nil {
		return l, err
	}
	if c.SSH {
		if err := l.writeClientFiles(c.SSHDExtra); err != nil {
			return l, err
		}
		if err := l.startSSHDs(ctx, c.CheapShell); err != nil {
			return l, err
		}
	}
	return l, l.save()
}

func (l *Lab) buildNetwork() error {
	br, err := newNamedNS(l.Bridge)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", l.Bridge, err)
	}
	defer br.Close()
	bh, err := netlink.NewHandleAt(br)
	if err != nil {
		return err
	}
	defer bh.Close()
	if err := linkUp(bh, "lo"); err != nil {
		return err
	}
	// Multicast snooping off: VRRP's groups must reach every port without
	// an IGMP/MLD querier on the segment.
	off := false
	bridge := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}, MulticastSnooping: &off}
	if err := bh.LinkAdd(bridge); err != nil {
		return fmt.Errorf("%s: bridge br0: %w", l.Bridge, err)
	}
	if err := bh.LinkSetUp(bridge); err != nil {
		return err
	}
	for _, h := range l.Hosts() {
		if err := l.addHost(bh, bridge, h); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	if err := l.waitPortsUp(bh); err != nil {
		return err
	}
	return l.waitLinkLocal()
}

// waitLinkLocal returns once every host's eth0 has its IPv6 link-local
// address. The kernel adds it when the link gets its carrier, which under
// load came after the bridge port was up: a test that opened an NDP socket
// at once failed with "address linklocal not found".
func (l *Lab) waitLinkLocal() error {
	start := time.Now()
	var missing []string
	for range 150 { // at most 3 s
		missing = missing[:0]
		for _, h := range l.Hosts() {
			ok, err := hasLinkLocal(h)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, h.Name)
			}
		}
		if len(missing) == 0 {
			l.log.Debug("link-local addresses present", "after", time.Since(start))
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no IPv6 link-local address on eth0 after %v: %v", time.Since(start).Round(time.Millisecond), missing)
}

func hasLinkLocal(h *Host) (bool, error) {
	ns, err := netns.GetFromName(h.Netns)
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.Name, err)
	}
	defer ns.Close()
	hh, err := netlink.NewHandleAt(ns)
	if err != nil {
		return false, err
	}
	defer hh.Close()
	link, err := hh.LinkByName("eth0")
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.Name, err)
	}
	addrs, err := hh.AddrList(link, netlink.FAMILY_V6)
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() && a.Flags&unix.IFA_F_TENTATIVE == 0 {
			return true, nil
		}
	}
	return false, nil
}

// waitPortsUp returns once every bridge port is operationally up. The
// kernel tells the bridge of a veth's carrier through linkwatch, which may
// lag by up to a second; until then the port drops frames, and a test's
// first packets would vanish.
func (l *Lab) waitPortsUp(bh *netlink.Handle) error {
	start := time.Now()
	var down []string
	for range 150 { // at most 3 s
		down = down[:0]
		for _, h := range l.Hosts() {
			link, err := bh.LinkByName("p-" + h.Name)
			if err != nil {
				return err
			}
			if link.Attrs().OperState != netlink.OperUp {
				down = append(down, link.Attrs().Name)
			}
		}
		if len(down) == 0 {
			l.log.Debug("bridge ports up", "after", time.Since(start))
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("bridge ports still down after %v: %v", time.Since(start).Round(time.Millisecond), down)
}

// addHost creates the host's namespace and its veth pair: the bridge end
// (p-HOST) in the bridge namespace, the host end (eth0) created directly in
// the host's namespace.
func (l *Lab) addHost(bh *netlink.Handle, bridge *netlink.Bridge, h *Host) error {
	ns, err := newNamedNS(h.Netns)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", h.Netns, err)
	}
	defer ns.Close()
	port := "p-" + h.Name
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: port, MasterIndex: bridge.Index}, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(ns))}
	if err := bh.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth %s: %w", port, err)
	}
	if err := bh.LinkSetUp(veth); err != nil {
		return err
	}
	hh, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer hh.Close()
	if err := linkUp(hh, "lo"); err != nil {
		return err
	}
	eth, err := hh.LinkByName("eth0")
	if err != nil {
		return err
	}
	// No DAD on the lab's links: the link-local address would otherwise be
	// tentative (unusable as a source, e.g. for VRRPv3 over IPv6) for a
	// second or two after the link comes up.
	if err := h.Do(func() error {
		return os.WriteFile("/proc/sys/net/ipv6/conf/eth0/accept_dad", []byte("0"), 0o644)
	}); err != nil {
		return fmt.Errorf("disable DAD: %w", err)
	}
	for _, a := range []*netlink.Addr{
		{IPNet: &net.IPNet{IP: h.Addr4.AsSlice(), Mask: net.CIDRMask(l.Subnet4.Bits(), 32)}},
		// nodad: the lab's addresses are unique by construction, and DAD
		// would leave them tentative (unusable) for a second or more.
		{IPNet: &net.IPNet{IP: h.Addr6.AsSlice(), Mask: net.CIDRMask(l.Subnet6.Bits(), 128)}, Flags: unix.IFA_F_NODAD},
	} {
		if err := hh.AddrAdd(eth, a); err != nil {
			return fmt.Errorf("address %s: %w", a.IPNet, err)
		}
	}
	return hh.LinkSetUp(eth)
}

func linkUp(h *netlink.Handle, name string) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return err
	}
	return h.LinkSetUp(link)
}

// shareNetnsDir makes /run/netns a shared mount point, as `ip netns add`
// does. Then a namespace's bind mount, and its removal, propagate to the
// mount namespaces of processes started with `ip netns exec` (which make
// their copy a slave): otherwise such a process, in another lab, keeps a
// copy of this lab's namespace mounts and deleting them fails with
// "device or resource busy".
func shareNetnsDir() error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return err
	}
	for made := false; ; made = true {
		err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if err != unix.EINVAL || made {
			return fmt.Errorf("make %s a shared mount: %w", netnsDir, err)
		}
		// Not a mount point yet: bind it onto itself, then share it.
		if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", netnsDir, err)
		}
	}
}

// newNamedNS creates a named namespace (visible to `ip netns`) without
// leaving the calling thread in it.
func newNamedNS(name string) (netns.NsHandle, error) {
	if err := shareNetnsDir(); err != nil {
		return netns.None(), err
	}
	var h netns.NsHandle
	err := inNamespace(func() error {
		var err error
		h, err = netns.NewNamed(name)
		return err
	})
	return h, err
}

// inNamespace runs fn on a locked OS thread and puts the thread back into
// the caller's namespace afterwards. If it cannot, the thread stays locked
// and dies with the goroutine rather than leak into the pool.
func inNamespace(fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		return fmt.Errorf("restoring network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// Do runs fn with the calling goroutine's thread inside the host's
// namespace. Sockets created in fn stay in that namespace when used later
// from any goroutine.
func (h *Host) Do(fn func() error) error {
	target, err := netns.GetFromName(h.Netns)
	if err != nil {
		return fmt.Errorf("%s: namespace %s: %w", h.Name, h.Netns, err)
	}
	defer target.Close()
	return inNamespace(func() error {
		if err := netns.Set(target); err != nil {
			return err
		}
		return fn()
	})
}

// Dial opens a connection from inside the host's namespace.
func (h *Host) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() error {
		var err error
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

func (l *Lab) startSSHDs(ctx context.Context, cheapShell bool) error {
	sshd, err := findSSHD()
	if err != nil {
		return err
	}
	// OpenSSH refuses to start without its privilege-separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	for _, h := range l.Nodes {
		argv := []string{sshd, "-D", "-e", "-f", filepath.Join(h.Dir, "sshd_config")}
		if cheapShell {
			if argv, err = cheapShellArgv(argv); err != nil {
				return err
			}
		}
		p, err := h.Start("sshd", argv...)
		if err != nil {
			return err
		}
		h.SSHDPID = p.Pid()
	}
	for _, h := range l.Nodes {
		if err := waitTCP(ctx, l.Operator, h.SSHAddr(), 10*time.Second); err != nil {
			return fmt.Errorf("%s: sshd not answering on %s: %w (log %s)", h.Name, h.SSHAddr(), err, filepath.Join(h.Dir, "sshd.log"))
		}
	}
	return nil
}

func findSSHD() (string, error) {
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("sshd not found: install openssh-server (apt-get install openssh-server)")
}

// waitTCP polls addr from host until it accepts a connection, at most
// every 50 ms and for at most limit.
func waitTCP(ctx context.Context, from *Host, addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for range int(limit / (50 * time.Millisecond)) {
		dctx, dcancel := context.WithTimeout(ctx, time.Second)
		c, err := from.Dial(dctx, "tcp", addr)
		dcancel()
		if err == nil {
			return c.Close()
		}
		last = err
		select {
		case <-ctx.Done():
			return last
		case <-time.After(50 * time.Millisecond):
		}
	}
	return last
}
