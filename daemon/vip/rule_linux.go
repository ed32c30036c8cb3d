//go:build linux

package vip

import (
	"context"
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

// Rules lists the kernel's policy rules of a family (RTM_GETRULE dump).
func (m *Manager) Rules(v6 bool) ([]Rule, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETRULE, unix.NLM_F_DUMP)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: m.rs}
	hdr := ruleHeader{Family: unix.AF_INET}
	if v6 {
		hdr.Family = unix.AF_INET6
	}
	req.AddData(&hdr)
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWRULE)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(msgs))
	for _, b := range msgs {
		r, err := ParseRuleMessage(b)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// RulePresent reports whether the kernel has r.
func (m *Manager) RulePresent(r Rule) (bool, error) {
	rules, err := m.Rules(r.V6)
	if err != nil {
		return false, err
	}
	for _, k := range rules {
		if r.Same(k) {
			return true, nil
		}
	}
	return false, nil
}

// WatchRules calls gone with every policy rule the kernel deletes in the
// calling thread's network namespace (RTNLGRP_IPV4_RULE/IPV6_RULE), from
// its own goroutine, until ctx ends. Events lost to a full socket buffer
// (ENOBUFS) are skipped; another error ends the watch, reported to lost.
func WatchRules(ctx context.Context, gone func(Rule), lost func(error)) error {
	return watchNetlink(ctx, "rule events", func(m syscall.NetlinkMessage) {
		if m.Header.Type != unix.RTM_DELRULE {
			return
		}
		if r, err := ParseRuleMessage(m.Data); err == nil {
			gone(r)
		}
	}, lost, 0, unix.RTNLGRP_IPV4_RULE, unix.RTNLGRP_IPV6_RULE)
}
