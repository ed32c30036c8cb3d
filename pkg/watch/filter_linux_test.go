//go:build linux

package watch

import (
	"testing"

	"golang.org/x/net/bpf"
)

// The capture filter keeps VRRP, VRRP in AH and IPv6 hop-by-hop, and
// drops AH for other protocols and everything else. bpf.VM runs on
// Ethernet frames, so the test prepends a header and shifts the program's
// offsets the way a SOCK_DGRAM socket's missing link header would.
func TestVRRPFilter(t *testing.T) {
	g, ga := golden(t), goldenAH(t)
	other := append([]byte(nil), ga["v2-ah-mcast-1"]...)
	other[20] = 6
	tcp := append([]byte(nil), g["v2-ipv4-mcast-pass"]...)
	tcp[9] = 6
	cases := []struct {
		name  string
		proto uint16
		pkt   []byte
		keep  bool
	}{
		{"vrrp4", 0x0800, g["v2-ipv4-mcast-pass"], true},
		{"vrrp6", 0x86dd, g["v3-ipv6-mcast"], true},
		{"ah-vrrp", 0x0800, ga["v2-ah-mcast-1"], true},
		{"ah-unicast", 0x0800, ga["v2-ah-ucast-1"], true},
		{"ah-other", 0x0800, other, false},
		{"tcp", 0x0800, tcp, false},
		{"arp", 0x0806, make([]byte, 28), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vm, err := bpf.NewVM(ethFilter(t))
			if err != nil {
				t.Fatal(err)
			}
			frame := append(make([]byte, 12), byte(c.proto>>8), byte(c.proto))
			n, err := vm.Run(append(frame, c.pkt...))
			if err != nil {
				t.Fatal(err)
			}
			if (n > 0) != c.keep {
				t.Errorf("kept %d bytes, want keep=%v", n, c.keep)
			}
		})
	}
}

// ethFilter is vrrpFilter for an Ethernet frame in bpf.VM, which has no
// protocol extension: the ethertype is loaded from offset 12 and every
// packet offset moves by the 14-byte header.
func ethFilter(t *testing.T) []bpf.Instruction {
	t.Helper()
	out := make([]bpf.Instruction, len(vrrpFilter))
	for i, ins := range vrrpFilter {
		switch v := ins.(type) {
		case bpf.LoadExtension:
			out[i] = bpf.LoadAbsolute{Off: 12, Size: 2}
		case bpf.LoadAbsolute:
			v.Off += 14
			out[i] = v
		case bpf.LoadMemShift:
			v.Off += 14
			out[i] = v
		case bpf.LoadIndirect:
			v.Off += 14
			out[i] = v
		default:
			out[i] = ins
		}
	}
	return out
}
