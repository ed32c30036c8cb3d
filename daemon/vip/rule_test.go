package vip

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// TestRuleMessage checks the header and attributes against what
// keepalived's netlink_rule (vrrp_iprule.c) puts in its request.
func TestRuleMessage(t *testing.T) {
	ka := uint8(18)
	u32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	tests := []struct {
		name  string
		r     Rule
		h     RuleHeader
		attrs []RuleAttr
	}{
		{"table in the header", Rule{From: netip.MustParsePrefix("192.0.2.0/24"), Priority: 100, Action: RuleToTable, Table: 100, Protocol: &ka, SuppressPrefixLen: -1},
			RuleHeader{Family: 2, SrcLen: 24, Table: 100, Action: 1},
			[]RuleAttr{{fraSrc, []byte{192, 0, 2, 0}}, {fraPriority, u32(100)}, {fraProtocol, []byte{18}}}},
		{"table 0 is main", Rule{Priority: 1, Action: RuleToTable, SuppressPrefixLen: -1},
			RuleHeader{Family: 2, Table: 254, Action: 1}, []RuleAttr{{fraPriority, u32(1)}}},
		{"a table over 255 in FRA_TABLE", Rule{V6: true, To: netip.MustParsePrefix("2001:db8::/32"), Priority: 5, Action: RuleToTable, Table: 1000, SuppressPrefixLen: -1},
			RuleHeader{Family: 10, DstLen: 32, Action: 1},
			[]RuleAttr{{fraTable, u32(1000)}, {fraDst, netip.MustParseAddr("2001:db8::").AsSlice()}, {fraPriority, u32(5)}}},
		{"l3mdev: no table", Rule{Priority: 7, Action: RuleToTable, L3mdev: true, SuppressPrefixLen: -1},
			RuleHeader{Family: 2, Action: 1}, []RuleAttr{{fraPriority, u32(7)}, {fraL3mdev, []byte{1}}}},
		{"goto, invert, marks, names", Rule{Invert: true, Priority: 3, Action: RuleGoto, Goto: 9, HasFwmark: true, Fwmark: 1, HasFwmask: true, Fwmask: 3, Iif: "eth0", Tos: 8, SuppressPrefixLen: -1},
			RuleHeader{Family: 2, Tos: 8, Action: 2, Flags: fibRuleInvert},
			[]RuleAttr{{fraPriority, u32(3)}, {fraFwmark, u32(1)}, {fraFwmask, u32(3)}, {fraIifname, []byte("eth0\x00")}, {fraGoto, u32(9)}}},
		{"tunnel id big-endian u64, ranges", Rule{Priority: 2, Action: RuleNop, TunID: 5, Dport: &[2]uint16{80, 81}, SuppressPrefixLen: -1},
			RuleHeader{Family: 2, Action: 3},
			[]RuleAttr{{fraPriority, u32(2)}, {fraTunID, []byte{0, 0, 0, 0, 0, 0, 0, 5}}, {fraDportRange, binary.NativeEndian.AppendUint16(binary.NativeEndian.AppendUint16(nil, 80), 81)}}},
	}
	for _, tc := range tests {
		h, attrs, err := tc.r.Message()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if h != tc.h {
			t.Errorf("%s: header %+v, want %+v", tc.name, h, tc.h)
		}
		if len(attrs) != len(tc.attrs) {
			t.Errorf("%s: attrs %v, want %v", tc.name, attrs, tc.attrs)
			continue
		}
		for i := range attrs {
			if attrs[i].Type != tc.attrs[i].Type || !bytes.Equal(attrs[i].Data, tc.attrs[i].Data) {
				t.Errorf("%s: attr %d = %v, want %v", tc.name, i, attrs[i], tc.attrs[i])
			}
		}
	}
	if _, _, err := (Rule{V6: false, From: netip.MustParsePrefix("2001:db8::/32"), Action: RuleNop}).Message(); err == nil {
		t.Error("an IPv6 prefix in an IPv4 rule: no error")
	}
}

// serialize lays out a message as netlink does (attributes padded to 4).
func serialize(h RuleHeader, attrs []RuleAttr) []byte {
	b := []byte{h.Family, h.DstLen, h.SrcLen, h.Tos, h.Table, h.Res1, h.Res2, h.Action}
	b = binary.NativeEndian.AppendUint32(b, h.Flags)
	for _, a := range attrs {
		b = binary.NativeEndian.AppendUint16(b, uint16(4+len(a.Data)))
		b = binary.NativeEndian.AppendUint16(b, a.Type)
		b = append(b, a.Data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// TestParseRuleMessage: a rule read back is Same as the rule sent, and
// differs from its neighbours.
func TestParseRuleMessage(t *testing.T) {
	ka := uint8(18)
	rules := []Rule{
		{From: netip.MustParsePrefix("192.0.2.0/24"), Priority: 100, Action: RuleToTable, Table: 100, Protocol: &ka, SuppressPrefixLen: -1},
		{V6: true, To: netip.MustParsePrefix("2001:db8::/32"), Priority: 5, Action: RuleToTable, Table: 1000, SuppressPrefixLen: -1},
		{Priority: 7, Action: RuleToTable, L3mdev: true, SuppressPrefixLen: -1},
		{Invert: true, Iif: "eth0", Oif: "eth1", Priority: 3, Action: RuleGoto, Goto: 9, HasFwmark: true, Fwmark: 1, SuppressPrefixLen: -1},
		{Priority: 2, Action: RuleProhibit, SuppressPrefixLen: -1},
	}
	for i, r := range rules {
		h, attrs, err := r.Message()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseRuleMessage(serialize(h, attrs))
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if !r.Same(got) {
			t.Errorf("%s: read back as %s (%+v)", r, got, got)
		}
		if (r.Protocol == nil) != (got.Protocol == nil) {
			t.Errorf("%s: protocol %v read back as %v", r, r.Protocol, got.Protocol)
		}
		for j, o := range rules {
			if j != i && o.Same(got) {
				t.Errorf("%s is Same as %s", o, got)
			}
		}
	}
	if _, err := ParseRuleMessage([]byte{2, 0}); err == nil {
		t.Error("a short message: no error")
	}
}
