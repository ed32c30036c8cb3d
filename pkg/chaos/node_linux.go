//go:build linux

package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hactl/hactl/daemon/vip"
	"github.com/hactl/hactl/pkg/netlab"
)

// node is one lab node running hactl daemon.
type node struct {
	*netlab.Host
	prio     int
	bin      string
	interval time.Duration
	proc     *netlab.Proc
	mgr      *vip.Manager
}

func (n *node) conf() string {
	return fmt.Sprintf(`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    version 3
    priority %d
    advert_int %g
    virtual_ipaddress {
        %s
    }
}
`, n.prio, n.interval.Seconds(), vipPrefix)
}

func (n *node) start() error {
	conf := filepath.Join(n.Dir, "hactl.conf")
	if err := os.WriteFile(conf, []byte(n.conf()), 0o644); err != nil {
		return err
	}
	p, err := n.Start("daemon", n.bin, "daemon", "-f", conf, "--state-file", filepath.Join(n.Dir, "state"),
		"--socket", n.Socket(), "--pid-file", filepath.Join(n.Dir, "hactl.pid"))
	if err != nil {
		return err
	}
	n.proc = p
	// Return once the daemon answers on its socket, so the next fault (a
	// promotion, say) finds it listening. The file alone proves nothing:
	// a killed daemon leaves its socket file behind.
	for i := 0; ; i++ {
		if c, err := net.DialTimeout("unix", n.Socket(), 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if i == 250 {
			return fmt.Errorf("%s: daemon not answering on %s after 5 s (log %s)", n.Name, n.Socket(), p.Log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n.mgr == nil {
		if err := n.Do(func() (err error) { n.mgr, err = vip.New(nil); return err }); err != nil {
			return err
		}
	}
	return nil
}

func (n *node) holds() bool {
	ok, _, err := n.mgr.Present(vip.VIP{Prefix: vipPrefix, Dev: "eth0"})
	return err == nil && ok
}

func (n *node) signal(sig syscall.Signal) {
	if n.proc != nil {
		_ = n.proc.Signal(sig)
	}
}

// wait waits for the daemon to exit, for at most 10 s.
func (n *node) wait() {
	if n.proc == nil {
		return
	}
	select {
	case <-n.proc.Done():
	case <-time.After(10 * time.Second):
		_ = n.proc.Signal(syscall.SIGKILL)
		<-n.proc.Done()
	}
	n.proc = nil
}

func (n *node) stop() {
	if n.proc != nil {
		_ = n.proc.Signal(syscall.SIGCONT)
		_ = n.proc.Stop(3 * time.Second)
		n.proc = nil
	}
	if n.mgr != nil {
		n.mgr.Close()
		n.mgr = nil
	}
}

// heal undoes what a fault may have left: nftables rules and a downed link.
func (n *node) heal() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = n.Run(ctx, "nft", "delete", "table", "inet", "chaos")
	_, _ = n.Run(ctx, "ip", "link", "set", "eth0", "up")
}
