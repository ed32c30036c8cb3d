package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// LocalNode is this host, asked without SSH (hactl --local): its
// addresses from the kernel (Go's net package, which reads them through
// netlink on Linux), its hactl daemon through the local control socket,
// and keepalived through the same probe script the SSH nodes run, here
// with /bin/sh.
type LocalNode struct {
	// Timeout, when set, bounds the call on the control socket.
	Timeout time.Duration

	name   string
	socket string

	once  sync.Once
	probe probeResult
	perr  error
}

// NewLocalNode returns this host, named after its host name, with the
// hactl control socket at socket.
func NewLocalNode(socket string) *LocalNode {
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "localhost"
	}
	return &LocalNode{name: name, socket: socket}
}

// Name is the host name.
func (n *LocalNode) Name() string { return n.name }

// Addresses lists this host's interfaces and addresses.
func (n *LocalNode) Addresses(context.Context) ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifi := range ifs {
		ifc := Interface{Name: ifi.Name, Index: ifi.Index, Up: ifi.Flags&net.FlagUp != 0, Addrs: []netip.Prefix{}}
		if len(ifi.HardwareAddr) == 6 {
			ifc.MAC = ifi.HardwareAddr.String()
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return nil, fmt.Errorf("%s: addresses: %w", ifi.Name, err)
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			bits, _ := ipn.Mask.Size()
			ifc.Addrs = append(ifc.Addrs, netip.PrefixFrom(ip.Unmap(), bits))
		}
		out = append(out, ifc)
	}
	return out, nil
}

// Daemon asks the local control socket, then looks for keepalived. As on
// SSH nodes, a socket that opens but answers badly or not at all is an
// error (socketFault).
func (n *LocalNode) Daemon(ctx context.Context) (*Daemon, error) {
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if n.Timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, n.Timeout)
	}
	defer cancel()
	cl := api.NewUnixClient(n.socket)
	defer cl.CloseIdleConnections()
	st, serr := cl.Status(cctx)
	if serr == nil {
		return hactlDaemon(st), nil
	}
	if err := socketFault(cctx, n.socket, serr, n.Timeout); err != nil {
		return nil, err
	}
	n.once.Do(func() {
		out, err := exec.CommandContext(ctx, "/bin/sh", "-c", keepalivedProbe).Output()
		n.probe, n.perr = parseProbe(out), err
	})
	if d := n.probe.keepalivedDaemon(); d != nil {
		return d, nil
	}
	if note := refusedNote(n.socket, serr); note != "" {
		return &Daemon{Kind: DaemonHactl, Instances: []Instance{}, Note: note}, nil
	}
	d := &Daemon{Kind: DaemonNone, Instances: []Instance{}}
	if !errors.Is(serr, os.ErrNotExist) && !isConnRefused(serr) {
		d.Note = "control socket " + n.socket + ": " + serr.Error()
	}
	return d, nil
}

func isConnRefused(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}
