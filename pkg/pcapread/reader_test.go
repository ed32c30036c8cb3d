package pcapread

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// ts is the timestamp every test record carries.
var ts = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

// pcapFile builds a pcap file: byte order, nanosecond magic or not, link
// type, records.
func pcapFile(bo binary.ByteOrder, nano bool, lt LinkType, recs ...[]byte) []byte {
	var b bytes.Buffer
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	hdr := make([]byte, 24)
	bo.PutUint32(hdr[0:], magic)
	bo.PutUint16(hdr[4:], 2)
	bo.PutUint16(hdr[6:], 4)
	bo.PutUint32(hdr[16:], 262144)
	bo.PutUint32(hdr[20:], uint32(lt))
	b.Write(hdr)
	for _, r := range recs {
		rh := make([]byte, 16)
		bo.PutUint32(rh[0:], uint32(ts.Unix()))
		frac := uint32(ts.Nanosecond())
		if !nano {
			frac /= 1000
		}
		bo.PutUint32(rh[4:], frac)
		bo.PutUint32(rh[8:], uint32(len(r)))
		bo.PutUint32(rh[12:], uint32(len(r)))
		b.Write(rh)
		b.Write(r)
	}
	return b.Bytes()
}

// order is a byte order that can also append.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ngBlock builds one pcapng block.
func ngBlock(bo order, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	out := bo.AppendUint32(nil, typ)
	out = bo.AppendUint32(out, n)
	out = append(out, body...)
	return bo.AppendUint32(out, n)
}

// ngOption encodes one option.
func ngOption(bo order, code uint16, val []byte) []byte {
	out := bo.AppendUint16(nil, code)
	out = bo.AppendUint16(out, uint16(len(val)))
	out = append(out, val...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	return out
}

// pcapngFile builds a pcapng file with one interface named ifname of link
// type lt (nanosecond resolution), the first record as an enhanced packet
// block and the rest as simple packet blocks.
func pcapngFile(bo order, ifname string, lt LinkType, recs ...[]byte) []byte {
	shb := bo.AppendUint32(nil, 0x1a2b3c4d)
	shb = bo.AppendUint16(shb, 1)
	shb = bo.AppendUint16(shb, 0)
	shb = bo.AppendUint64(shb, ^uint64(0))
	out := ngBlock(bo, 0x0a0d0d0a, shb)
	idb := bo.AppendUint16(nil, uint16(lt))
	idb = bo.AppendUint16(idb, 0)
	idb = bo.AppendUint32(idb, 262144)
	idb = append(idb, ngOption(bo, 2, []byte(ifname))...)
	idb = append(idb, ngOption(bo, 9, []byte{9})...) // if_tsresol: nanoseconds
	idb = append(idb, 0, 0, 0, 0)
	out = append(out, ngBlock(bo, 1, idb)...)
	for i, r := range recs {
		if i == 0 {
			epb := bo.AppendUint32(nil, 0)
			t := uint64(ts.UnixNano())
			epb = bo.AppendUint32(epb, uint32(t>>32))
			epb = bo.AppendUint32(epb, uint32(t))
			epb = bo.AppendUint32(epb, uint32(len(r)))
			epb = bo.AppendUint32(epb, uint32(len(r)))
			epb = append(epb, r...)
			out = append(out, ngBlock(bo, 6, epb)...)
			continue
		}
		spb := bo.AppendUint32(nil, uint32(len(r)))
		out = append(out, ngBlock(bo, 3, append(spb, r...))...)
	}
	return out
}

func readAll(t *testing.T, b []byte) (Format, []Record, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return "", nil, err
	}
	var out []Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Format(), out, nil
		}
		if err != nil {
			return r.Format(), out, err
		}
		out = append(out, rec)
	}
}

func TestFormats(t *testing.T) {
	p1, p2 := []byte("first packet"), []byte("second!")
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	cases := []struct {
		name   string
		file   []byte
		format Format
		ifname string
		ts     time.Time
	}{
		{"pcap LE µs", pcapFile(binary.LittleEndian, false, LinkEthernet, p1, p2), FormatPcap, "", ts.Truncate(time.Microsecond)},
		{"pcap BE µs", pcapFile(binary.BigEndian, false, LinkEthernet, p1, p2), FormatPcap, "", ts.Truncate(time.Microsecond)},
		{"pcap LE ns", pcapFile(binary.LittleEndian, true, LinkEthernet, p1, p2), FormatPcap, "", ts},
		{"pcap BE ns", pcapFile(binary.BigEndian, true, LinkEthernet, p1, p2), FormatPcap, "", ts},
		{"pcap gzip", gz(pcapFile(binary.LittleEndian, true, LinkEthernet, p1, p2)), FormatPcap, "", ts},
		{"pcapng LE", pcapngFile(binary.LittleEndian, "eth0", LinkEthernet, p1, p2), FormatPcapNG, "eth0", ts},
		{"pcapng BE", pcapngFile(binary.BigEndian, "eth0", LinkEthernet, p1, p2), FormatPcapNG, "eth0", ts},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, recs, err := readAll(t, c.file)
			if err != nil {
				t.Fatal(err)
			}
			if f != c.format || len(recs) != 2 {
				t.Fatalf("format %s, %d records", f, len(recs))
			}
			if !bytes.Equal(recs[0].Data, p1) || !bytes.Equal(recs[1].Data, p2) || recs[0].LinkType != LinkEthernet ||
				recs[0].Interface != c.ifname || recs[0].Length != len(p1) {
				t.Errorf("records %+v", recs)
			}
			if !recs[0].Time.Equal(c.ts) {
				t.Errorf("time %v, want %v", recs[0].Time, c.ts)
			}
		})
	}
}

func TestNotACapture(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("ab"), []byte("hello world, no capture here")} {
		if _, err := NewReader(bytes.NewReader(b)); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v", b, err)
		}
	}
}

func TestTruncatedCapture(t *testing.T) {
	f := pcapFile(binary.LittleEndian, false, LinkEthernet, []byte("0123456789"))
	_, recs, err := readAll(t, f[:len(f)-3])
	if len(recs) != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("records %d, err %v", len(recs), err)
	}
}

func TestNetwork(t *testing.T) {
	ip4 := []byte{0x45, 1, 2, 3}
	mac := []byte{2, 0, 0, 0, 0, 1}
	eth := func(typ uint16, tags ...uint16) []byte {
		b := append([]byte{1, 0, 0x5e, 0, 0, 0x12}, mac...)
		for _, tag := range tags {
			b = binary.BigEndian.AppendUint16(b, tag)
			b = append(b, 0, 5)
		}
		b = binary.BigEndian.AppendUint16(b, typ)
		return append(b, ip4...)
	}
	sll := append([]byte{0, 0, 0, 1, 0, 6}, mac...)
	sll = append(sll, 0, 0, 0x08, 0x00)
	sll2 := []byte{0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6}
	sll2 = append(append(sll2, mac...), 0, 0)
	cases := []struct {
		name    string
		lt      LinkType
		data    []byte
		ip      []byte
		mac     bool
		ifindex int
		err     error
	}{
		{"ethernet", LinkEthernet, eth(0x0800), ip4, true, 0, nil},
		{"ethernet vlan", LinkEthernet, eth(0x86dd, 0x8100), ip4, true, 0, nil},
		{"ethernet qinq", LinkEthernet, eth(0x0800, 0x88a8, 0x8100), ip4, true, 0, nil},
		{"ethernet arp", LinkEthernet, eth(0x0806), nil, true, 0, nil},
		{"ethernet short", LinkEthernet, mac, nil, false, 0, ErrTruncated},
		{"sll", LinkLinuxSLL, append(sll, ip4...), ip4, true, 0, nil},
		{"sll short", LinkLinuxSLL, sll[:10], nil, false, 0, ErrTruncated},
		{"sll2", LinkLinuxSLL2, append(sll2, ip4...), ip4, true, 3, nil},
		{"raw", LinkRaw, ip4, ip4, false, 0, nil},
		{"ipv4", LinkIPv4, ip4, ip4, false, 0, nil},
		{"null little-endian", LinkNull, append([]byte{2, 0, 0, 0}, ip4...), ip4, false, 0, nil},
		{"null macOS IPv6", LinkNull, append([]byte{0, 0, 0, 30}, ip4...), ip4, false, 0, nil},
		{"loop", LinkLoop, append([]byte{0, 0, 0, 2}, ip4...), ip4, false, 0, nil},
		{"unknown", LinkType(147), ip4, nil, false, 0, ErrLinkType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := Record{LinkType: c.lt, Data: c.data}.Network()
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if !bytes.Equal(n.IP, c.ip) || (len(n.SrcMAC) > 0) != c.mac || n.IfIndex != c.ifindex {
				t.Errorf("got ip %x mac %v ifindex %d", n.IP, n.SrcMAC, n.IfIndex)
			}
			if c.mac && !bytes.Equal(n.SrcMAC, mac) {
				t.Errorf("mac %v", n.SrcMAC)
			}
		})
	}
}
