//go:build linux

package daemon

import (
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestAPIAddress(t *testing.T) {
	u := func(v uint32) *uint32 { return &v }
	for _, tc := range []struct {
		name        string
		flags       int
		valid, pref int
		wantFlags   []string
		wantValid   *uint32
		wantPref    *uint32
	}{
		{"permanent forever", unix.IFA_F_PERMANENT, forever, forever, []string{"permanent"}, nil, nil},
		{"leased VIP", unix.IFA_F_NODAD, 30, 30, []string{"nodad"}, u(30), u(30)},
		{"deprecated", unix.IFA_F_DEPRECATED, forever, 0, []string{"deprecated"}, nil, u(0)},
		{"tentative then failed", unix.IFA_F_TENTATIVE | unix.IFA_F_DADFAILED, forever, forever, []string{"tentative", "dadfailed"}, nil, nil},
		{"secondary", unix.IFA_F_SECONDARY | unix.IFA_F_NOPREFIXROUTE, forever, forever, []string{"secondary", "noprefixroute"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := netip.MustParsePrefix("10.0.0.1/23")
			got := apiAddress(p, netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("10.0.0.1"), Mask: net.CIDRMask(23, 32)}, Flags: tc.flags, ValidLft: tc.valid, PreferedLft: tc.pref})
			if got.Prefix != "10.0.0.1/23" || !reflect.DeepEqual(got.Flags, tc.wantFlags) || !reflect.DeepEqual(got.ValidSeconds, tc.wantValid) || !reflect.DeepEqual(got.PreferredSeconds, tc.wantPref) {
				t.Errorf("apiAddress = %+v (valid %v, preferred %v), want flags %v valid %v preferred %v", got, got.ValidSeconds, got.PreferredSeconds, tc.wantFlags, tc.wantValid, tc.wantPref)
			}
		})
	}
}
