package vip

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// Rule actions (FR_ACT_*, include/uapi/linux/fib_rules.h).
const (
	RuleToTable     = 1
	RuleGoto        = 2
	RuleNop         = 3
	RuleBlackhole   = 6
	RuleUnreachable = 7
	RuleProhibit    = 8
)

// Rule is a policy routing rule (keepalived's virtual_rules and
// static_rules), sent to the kernel as keepalived's netlink_rule
// (vrrp_iprule.c) sends it.
type Rule struct {
	// V6 selects the IPv6 rule table (AF_INET6); otherwise AF_INET.
	V6 bool
	// From and To are the source and destination; invalid means all.
	From, To netip.Prefix
	Invert   bool
	Priority uint32
	// Action is one of the Rule* actions.
	Action uint8
	// Table is looked up for RuleToTable (0: main); not with L3mdev.
	Table  uint32
	Goto   uint32
	L3mdev bool
	Tos    uint8
	// Fwmark and Fwmask are sent when HasFwmark / HasFwmask.
	Fwmark, Fwmask       uint32
	HasFwmark, HasFwmask bool
	Realms               uint32
	// SuppressPrefixLen is -1 for none.
	SuppressPrefixLen int32
	SuppressIfgroup   *uint32
	Iif, Oif          string
	TunID             uint64
	UIDRange          *[2]uint32
	Sport, Dport      *[2]uint16
	IPProto           *uint8
	Protocol          *uint8
}

var actionNames = map[uint8]string{RuleToTable: "lookup", RuleGoto: "goto", RuleNop: "nop",
	RuleBlackhole: "blackhole", RuleUnreachable: "unreachable", RuleProhibit: "prohibit"}

func (r Rule) String() string {
	s := strconv.FormatUint(uint64(r.Priority), 10) + ":"
	if r.Invert {
		s += " not"
	}
	if r.From.IsValid() {
		s += " from " + r.From.String()
	} else {
		s += " from all"
	}
	if r.To.IsValid() {
		s += " to " + r.To.String()
	}
	switch {
	case r.L3mdev:
		s += " lookup [l3mdev-table]"
	case r.Action == RuleToTable:
		s += " lookup " + strconv.FormatUint(uint64(r.tableOrMain()), 10)
	case r.Action == RuleGoto:
		s += " goto " + strconv.FormatUint(uint64(r.Goto), 10)
	default:
		s += " " + actionNames[r.Action]
	}
	return s
}

func (r Rule) tableOrMain() uint32 {
	if r.Table == 0 {
		return 254
	}
	return r.Table
}

// Attribute types of a rule message (FRA_*, fib_rules.h).
const (
	fraDst               = 1
	fraSrc               = 2
	fraIifname           = 3
	fraGoto              = 4
	fraPriority          = 6
	fraFwmark            = 10
	fraFlow              = 11
	fraTunID             = 12
	fraSuppressIfgroup   = 13
	fraSuppressPrefixlen = 14
	fraTable             = 15
	fraFwmask            = 16
	fraOifname           = 17
	fraL3mdev            = 19
	fraUIDRange          = 20
	fraProtocol          = 21
	fraIPProto           = 22
	fraSportRange        = 23
	fraDportRange        = 24

	fibRuleInvert = 0x2
)

// RuleHeader is struct fib_rule_hdr.
type RuleHeader struct {
	Family, DstLen, SrcLen, Tos, Table, Res1, Res2, Action uint8
	Flags                                                  uint32
}

// RuleAttr is one netlink attribute of a rule message.
type RuleAttr struct {
	Type uint16
	Data []byte
}

// Message is the header and attributes keepalived's netlink_rule sends
// for r, for both RTM_NEWRULE and RTM_DELRULE. It is plain data, so that
// a test checks it without a kernel.
func (r Rule) Message() (RuleHeader, []RuleAttr, error) {
	h := RuleHeader{Family: 2, Tos: r.Tos, Action: r.Action}
	if r.V6 {
		h.Family = 10
	}
	if _, ok := actionNames[r.Action]; !ok {
		return h, nil, fmt.Errorf("rule %s: unknown action %d", r, r.Action)
	}
	var attrs []RuleAttr
	u32 := func(t uint16, v uint32) {
		attrs = append(attrs, RuleAttr{t, binary.NativeEndian.AppendUint32(nil, v)})
	}
	if r.Action == RuleToTable && !r.L3mdev {
		if t := r.tableOrMain(); t < 256 {
			h.Table = uint8(t)
		} else {
			u32(fraTable, t)
		}
	}
	if r.Invert {
		h.Flags |= fibRuleInvert
	}
	for _, p := range []struct {
		pfx  netip.Prefix
		typ  uint16
		bits *uint8
	}{{r.From, fraSrc, &h.SrcLen}, {r.To, fraDst, &h.DstLen}} {
		if !p.pfx.IsValid() {
			continue
		}
		if p.pfx.Addr().Is6() != r.V6 {
			return h, nil, fmt.Errorf("rule %s: address %s is not of the rule's family", r, p.pfx)
		}
		attrs = append(attrs, RuleAttr{p.typ, p.pfx.Addr().AsSlice()})
		*p.bits = uint8(p.pfx.Bits())
	}
	u32(fraPriority, r.Priority)
	if r.HasFwmark {
		u32(fraFwmark, r.Fwmark)
	}
	if r.HasFwmask {
		u32(fraFwmask, r.Fwmask)
	}
	if r.Realms != 0 {
		u32(fraFlow, r.Realms)
	}
	if r.SuppressPrefixLen != -1 {
		u32(fraSuppressPrefixlen, uint32(r.SuppressPrefixLen))
	}
	if r.SuppressIfgroup != nil {
		u32(fraSuppressIfgroup, *r.SuppressIfgroup)
	}
	if r.Iif != "" {
		attrs = append(attrs, RuleAttr{fraIifname, append([]byte(r.Iif), 0)})
	}
	if r.Oif != "" {
		attrs = append(attrs, RuleAttr{fraOifname, append([]byte(r.Oif), 0)})
	}
	if r.TunID != 0 {
		attrs = append(attrs, RuleAttr{fraTunID, binary.BigEndian.AppendUint64(nil, r.TunID)})
	}
	if r.UIDRange != nil {
		b := binary.NativeEndian.AppendUint32(nil, r.UIDRange[0])
		attrs = append(attrs, RuleAttr{fraUIDRange, binary.NativeEndian.AppendUint32(b, r.UIDRange[1])})
	}
	if r.L3mdev {
		attrs = append(attrs, RuleAttr{fraL3mdev, []byte{1}})
	}
	if r.Protocol != nil {
		attrs = append(attrs, RuleAttr{fraProtocol, []byte{*r.Protocol}})
	}
	if r.IPProto != nil {
		attrs = append(attrs, RuleAttr{fraIPProto, []byte{*r.IPProto}})
	}
	for _, p := range []struct {
		rg  *[2]uint16
		typ uint16
	}{{r.Sport, fraSportRange}, {r.Dport, fraDportRange}} {
		if p.rg != nil {
			b := binary.NativeEndian.AppendUint16(nil, p.rg[0])
			attrs = append(attrs, RuleAttr{p.typ, binary.NativeEndian.AppendUint16(b, p.rg[1])})
		}
	}
	if r.Action == RuleGoto {
		u32(fraGoto, r.Goto)
	}
	return h, attrs, nil
}

// Same reports whether o is r as the kernel identifies a rule for our
// purposes: family, preference, action, table (or goto target), source
// and destination, interfaces and mark. A rule read back from the kernel
// (ParseRuleMessage) is Same as the one added.
func (r Rule) Same(o Rule) bool {
	if r.V6 != o.V6 || r.Priority != o.Priority || r.Action != o.Action || r.Invert != o.Invert ||
		r.From != o.From || r.To != o.To || r.Iif != o.Iif || r.Oif != o.Oif || r.L3mdev != o.L3mdev ||
		r.Fwmark != o.Fwmark || r.Tos != o.Tos {
		return false
	}
	switch {
	case r.Action == RuleToTable && !r.L3mdev:
		return r.tableOrMain() == o.tableOrMain()
	case r.Action == RuleGoto:
		return r.Goto == o.Goto
	}
	return true
}

// ParseRuleMessage reads an RTM_NEWRULE/RTM_DELRULE payload (fib_rule_hdr
// and FRA_* attributes) back into a Rule, as far as Same compares it and
// with its protocol.
func ParseRuleMessage(b []byte) (Rule, error) {
	if len(b) < 12 {
		return Rule{}, fmt.Errorf("rule message of %d bytes", len(b))
	}
	r := Rule{V6: b[0] == 10, Tos: b[3], Table: uint32(b[4]), Action: b[7], SuppressPrefixLen: -1}
	srcLen, dstLen := int(b[2]), int(b[1])
	r.Invert = binary.NativeEndian.Uint32(b[8:12])&fibRuleInvert != 0
	for rest := b[12:]; len(rest) >= 4; {
		n := int(binary.NativeEndian.Uint16(rest[0:2]))
		typ := binary.NativeEndian.Uint16(rest[2:4]) &^ 0xc000
		if n < 4 || n > len(rest) {
			return r, fmt.Errorf("rule attribute of length %d in %d bytes", n, len(rest))
		}
		d := rest[4:n]
		u32 := func() uint32 {
			if len(d) < 4 {
				return 0
			}
			return binary.NativeEndian.Uint32(d)
		}
		switch typ {
		case fraSrc, fraDst:
			a, ok := netip.AddrFromSlice(d)
			if !ok {
				return r, fmt.Errorf("rule address of %d bytes", len(d))
			}
			if typ == fraSrc {
				r.From = netip.PrefixFrom(a, srcLen)
			} else {
				r.To = netip.PrefixFrom(a, dstLen)
			}
		case fraPriority:
			r.Priority = u32()
		case fraTable:
			r.Table = u32()
		case fraGoto:
			r.Goto = u32()
		case fraFwmark:
			r.Fwmark, r.HasFwmark = u32(), true
		case fraIifname, fraOifname:
			name := string(d)
			for i := range len(d) {
				if d[i] == 0 {
					name = string(d[:i])
					break
				}
			}
			if typ == fraIifname {
				r.Iif = name
			} else {
				r.Oif = name
			}
		case fraL3mdev:
			r.L3mdev = len(d) > 0 && d[0] != 0
		case fraProtocol:
			if len(d) > 0 {
				p := d[0]
				r.Protocol = &p
			}
		}
		rest = rest[min((n+3)&^3, len(rest)):]
	}
	if r.L3mdev {
		r.Table = 0
	}
	return r, nil
}
