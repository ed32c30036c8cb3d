//go:build linux

package chaos

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hactl/hactl/pkg/netlab"
)

// node is one lab node running hactl daemon or, in a mixed cluster,
// keepalived.
type node struct {
	*netlab.Host
	prio int
	desc instanceDesc
	// bin is the hactl binary; keepalived, when set, makes this a
	// keepalived node (the path of keepalived).
	bin        string
	keepalived string
	proc       *netlab.Proc
	nl         *netlink.Handle
}

func (n *node) isKeepalived() bool { return n.keepalived != "" }

// kind names the daemon in logs and reports.
func (n *node) kind() string {
	if n.isKeepalived() {
		return "keepalived"
	}
	return "hactl"
}

func (n *node) start() error {
	if n.nl == nil {
		if err := n.Do(func() (err error) { n.nl, err = netlink.NewHandle(); return err }); err != nil {
			return fmt.Errorf("%s: netlink: %w", n.Name, err)
		}
	}
	name := "hactl.conf"
	if n.isKeepalived() {
		name = "keepalived.conf"
	}
	conf := filepath.Join(n.Dir, name)
	if err := os.WriteFile(conf, []byte(n.desc.render(n.Name, n.prio)), 0o644); err != nil {
		return err
	}
	if n.isKeepalived() {
		return n.startKeepalived(conf)
	}
	return n.startHactl(conf)
}

func (n *node) startHactl(conf string) error {
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
			return nil
		}
		if i == 250 {
			return fmt.Errorf("%s: daemon not answering on %s after 5 s (log %s)", n.Name, n.Socket(), p.Log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startKeepalived runs keepalived as the lab runs it (netlab.KeepalivedArgv)
// and returns once its VRRP instance has started (its first state line).
// The pid files a SIGKILLed keepalived leaves are removed first, as a
// service manager's restart would find them gone with the old run's
// /run: keepalived refuses to start while a pid file names a live
// process, and a recycled pid could be one.
func (n *node) startKeepalived(conf string) error {
	argv := netlab.KeepalivedArgv(n.Host, conf)
	argv[0] = n.keepalived
	for _, f := range []string{"keepalived.pid", "vrrp.pid", "bfd.pid"} {
		_ = os.Remove(filepath.Join(n.Dir, f))
	}
	logPath := filepath.Join(n.Dir, "keepalived.log")
	var off int64
	if st, err := os.Stat(logPath); err == nil {
		off = st.Size()
	}
	p, err := n.Start("keepalived", argv...)
	if err != nil {
		return err
	}
	n.proc = p
	for i := 0; ; i++ {
		if b, err := os.ReadFile(logPath); err == nil && int64(len(b)) >= off &&
			(bytes.Contains(b[off:], []byte("Entering BACKUP STATE")) || bytes.Contains(b[off:], []byte("Entering MASTER STATE"))) {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s: keepalived exited at start (log %s)", n.Name, logPath)
		default:
		}
		if i == 250 {
			return fmt.Errorf("%s: keepalived's instance not started after 5 s (log %s)", n.Name, logPath)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holds reports whether the VIP is on any interface of the node (eth0,
// or the VMAC interface under use_vmac).
func (n *node) holds() bool {
	ok, _ := n.holdsOn()
	return ok
}

// holdsOn also names the interface that has it.
func (n *node) holdsOn() (bool, string) {
	if n.nl == nil {
		return false, ""
	}
	addrs, err := n.nl.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return false, ""
	}
	want := n.desc.vip.Addr().AsSlice()
	for _, a := range addrs {
		if a.IP.Equal(want) {
			dev := ""
			if l, err := n.nl.LinkByIndex(a.LinkIndex); err == nil {
				dev = l.Attrs().Name
			}
			return true, dev
		}
	}
	return false, ""
}

// signal sends sig to the daemon. keepalived is two processes (the
// parent and its VRRP child, which holds the instance): SIGKILL, SIGSTOP
// and SIGCONT go to both at once through the process group (the lab
// starts each daemon in its own session), as `kill -9` of every
// keepalived process or a frozen container would; SIGTERM goes to the
// parent, which stops the child as keepalived's service stop does. (A
// SIGKILL of the parent alone would make the child exit cleanly on its
// parent-death signal, and of the child alone would make the parent
// start a new one.)
func (n *node) signal(sig syscall.Signal) {
	if n.proc == nil {
		return
	}
	if n.isKeepalived() && sig != syscall.SIGTERM {
		_ = syscall.Kill(-n.proc.Pid(), sig)
		return
	}
	_ = n.proc.Signal(sig)
}

// wait waits for the daemon to exit, for at most 10 s.
func (n *node) wait() {
	if n.proc == nil {
		return
	}
	select {
	case <-n.proc.Done():
	case <-time.After(10 * time.Second):
		n.signal(syscall.SIGKILL)
		<-n.proc.Done()
	}
	if n.isKeepalived() {
		n.waitGroupGone()
	}
	n.proc = nil
}

// waitGroupGone waits (at most 5 s) until no live process of the
// daemon's process group is left, so that a keepalived VRRP child
// outliving its parent for a moment cannot answer for the next start.
// Zombies do not count: the lab's PID 1 may take a second to reap an
// orphan, and kill(2) still reaches a zombie.
func (n *node) waitGroupGone() {
	for i := 0; i < 250 && groupAlive(n.proc.Pid()); i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

// groupAlive reports whether a process of group pgid is alive (not a
// zombie), from /proc/PID/stat: "pid (comm) state ppid pgrp ...".
func groupAlive(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

func (n *node) stop() {
	if n.proc != nil {
		n.signal(syscall.SIGCONT)
		_ = n.proc.Stop(3 * time.Second)
		if n.isKeepalived() {
			_ = syscall.Kill(-n.proc.Pid(), syscall.SIGKILL)
			n.waitGroupGone()
		}
		n.proc = nil
	}
	if n.nl != nil {
		n.nl.Close()
		n.nl = nil
	}
}

// heal undoes what a fault may have left: nftables rules and a downed link.
func (n *node) heal() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = n.Run(ctx, "nft", "delete", "table", "inet", "chaos")
	_, _ = n.Run(ctx, "ip", "link", "set", "eth0", "up")
}
