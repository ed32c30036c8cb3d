//go:build linux

package vip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// ruleHeader serialises a RuleHeader as struct fib_rule_hdr.
type ruleHeader RuleHeader

func (h *ruleHeader) Len() int { return 12 }

func (h *ruleHeader) Serialize() []byte {
	b := []byte{h.Family, h.DstLen, h.SrcLen, h.Tos, h.Table, h.Res1, h.Res2, h.Action}
	return binary.NativeEndian.AppendUint32(b, h.Flags)
}

// ruleRequest sends r as keepalived's netlink_rule does, on the
// Manager's own rule socket: netlink.Rule cannot say l3mdev, and sends
// the tunnel id and IP protocol at sizes the kernel does not take.
func (m *Manager) ruleRequest(r Rule, typ, flags int) error {
	h, attrs, err := r.Message()
	if err != nil {
		return err
	}
	req := nl.NewNetlinkRequest(typ, flags|unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: m.rs}
	hdr := ruleHeader(h)
	req.AddData(&hdr)
	for _, a := range attrs {
		req.AddData(nl.NewRtAttr(int(a.Type), a.Data))
	}
	_, err = req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// AddRule installs the policy rule (NLM_F_EXCL, as keepalived adds it);
// one already there is not an error.
func (m *Manager) AddRule(r Rule) error {
	err := m.ruleRequest(r, unix.RTM_NEWRULE, unix.NLM_F_CREATE|unix.NLM_F_EXCL)
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("rule %s: add: %w", r, err)
	}
	return nil
}

// RemoveRule deletes the policy rule; one already gone is not an error.
func (m *Manager) RemoveRule(r Rule) error {
	err := m.ruleRequest(r, unix.RTM_DELRULE, 0)
	if err != nil && !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("rule %s: remove: %w", r, err)
	}
	return nil
}
