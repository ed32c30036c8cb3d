package vrrp

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ahVector is one capture from testdata/golden-ah (capture-ah.sh): a whole
// IPv4 packet keepalived 2.2.7 sent with auth_type AH, and its key.
type ahVector struct {
	name string
	key  string
	pkt  []byte
	// seq is the sequence number the file name implies: -N for the N'th
	// advert, -prio0 for the shutdown advert (0: not implied).
	seq uint32
}

func readAHGolden(tb testing.TB) []ahVector {
	tb.Helper()
	var out []ahVector
	for _, gv := range readGoldenDir(tb, "golden-ah") {
		v := ahVector{name: gv.name, pkt: gv.pkt}
		for _, line := range gv.comments {
			if k, ok := strings.CutPrefix(line, "# key: "); ok {
				v.key = k
			}
		}
		if i := strings.LastIndexByte(v.name, '-'); i > 0 {
			if n, err := strconv.Atoi(v.name[i+1:]); err == nil {
				v.seq = uint32(n)
			}
		}
		if v.key == "" {
			tb.Fatalf("%s: no '# key:' line", v.name)
		}
		out = append(out, v)
	}
	return out
}

// TestGoldenKeepalivedAH checks hactl's AH against keepalived's own adverts:
// the verifier accepts each, and the encoder, given the same IP header
// fields (ID, TTL, addresses) and sequence number, reproduces the packet
// byte for byte, ICV and IPv4 checksum included.
func TestGoldenKeepalivedAH(t *testing.T) {
	for _, v := range readAHGolden(t) {
		t.Run(v.name, func(t *testing.T) {
			key, err := AHKey(v.key)
			if err != nil {
				t.Fatal(err)
			}
			auth := NewAHAuth(key)
			hdr, msg, pc, err := SplitAH(v.pkt)
			if err != nil {
				t.Fatalf("SplitAH: %v", err)
			}
			unicast := !pc.Dst.IsMulticast()
			info, err := auth.Verify(hdr, msg, unicast)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.seq != 0 && info.Seq != v.seq {
				t.Errorf("sequence number %d, want %d (keepalived counts from 1)", info.Seq, v.seq)
			}
			var a Advertisement
			if err := Decode(&a, msg, pc); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if a.AuthType != AuthAH || a.AuthData != [authDataLen]byte{} {
				t.Errorf("VRRP auth type %d data %x, want 2 and zeros", a.AuthType, a.AuthData)
			}
			exp := Expect{Version: Version2, Family: IPv4, AuthType: AuthAH, Interval: time.Second}
			if err := exp.Check(&a, pc); err != nil {
				t.Fatalf("Check: %v", err)
			}
			re, err := a.Append(nil, pc.Src, pc.Dst)
			if err != nil {
				t.Fatal(err)
			}
			id := uint16(v.pkt[4])<<8 | uint16(v.pkt[5])
			got, err := auth.Append(nil, re, AHPacket{Src: pc.Src, Dst: pc.Dst, ID: id, TTL: uint8(pc.TTL), Seq: info.Seq, Unicast: unicast})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, v.pkt) {
				t.Fatalf("hactl's packet differs from keepalived's\n got %x\nwant %x", got, v.pkt)
			}
		})
	}
}

// TestGoldenAHTampering flips every byte of each capture: the ICV must
// fail exactly where keepalived's check covers the packet, and pass where
// it zeroes a mutable field (TOS, flags/fragment offset, checksum; the TTL
// only for unicast). A wrong key fails too.
func TestGoldenAHTampering(t *testing.T) {
	for _, v := range readAHGolden(t) {
		t.Run(v.name, func(t *testing.T) {
			key, _ := AHKey(v.key)
			auth := NewAHAuth(key)
			_, _, pc, _ := SplitAH(v.pkt)
			unicast := !pc.Dst.IsMulticast()
			mutable := map[int]bool{1: true, 6: true, 7: true, 10: true, 11: true}
			if unicast {
				mutable[8] = true
			}
			for i := range v.pkt {
				if i == 0 || i == 2 || i == 3 || i == 9 || i == 20 {
					continue // IHL, total length, protocol, next header: checked before the ICV
				}
				pkt := bytes.Clone(v.pkt)
				pkt[i] ^= 0x01
				hdr, msg, _, err := SplitAH(pkt)
				if err != nil {
					t.Fatalf("byte %d: SplitAH: %v", i, err)
				}
				_, err = auth.Verify(hdr, msg, unicast)
				if mutable[i] && err != nil {
					t.Errorf("byte %d is mutable, keepalived ignores it; Verify: %v", i, err)
				}
				if !mutable[i] && !errors.Is(err, ErrAHICV) {
					t.Errorf("byte %d flipped: err %v, want ah-icv", i, err)
				}
			}
			wrong := key
			wrong[0] ^= 0x20
			hdr, msg, _, _ := SplitAH(v.pkt)
			if _, err := NewAHAuth(wrong).Verify(hdr, msg, unicast); !errors.Is(err, ErrAHICV) {
				t.Errorf("wrong key: err %v, want ah-icv", err)
			}
			// Verifying with the other mode's TTL rule must fail for
			// multicast and unicast alike: the TTL is 255, not 0.
			if _, err := auth.Verify(hdr, msg, !unicast); !errors.Is(err, ErrAHICV) {
				t.Errorf("unicast=%v rule on a unicast=%v packet: err %v, want ah-icv", !unicast, unicast, err)
			}
		})
	}
}
