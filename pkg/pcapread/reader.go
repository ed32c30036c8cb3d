// Package pcapread reads packet captures (tcpdump's pcap, and pcapng, either
// possibly gzip-compressed) and strips the link-layer header from each
// record, so hactl can analyse captures made anywhere, on any OS.
//
// The container formats are parsed by gopacket's pcapgo
// (github.com/gopacket/gopacket/pcapgo), which is pure Go (no libpcap, no
// cgo), maintained, and hardened against hostile lengths: a record or block
// cannot make it allocate more than the bytes actually present. This package
// adds format detection, per-record interface names and link types, and a
// small link-layer decoder for the link types tcpdump writes for VRRP:
// Ethernet, Linux cooked capture v1 and v2 (tcpdump -i any), raw IP, and
// BSD loopback.
package pcapread

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Record is one captured packet.
type Record struct {
	// Time is the capture timestamp (UTC).
	Time time.Time
	// Interface is the capturing interface's name from a pcapng interface
	// description, "" when the capture does not say (pcap files).
	Interface string
	// LinkType says what header Data starts with.
	LinkType LinkType
	// Data is the captured bytes, possibly cut short by the snap length.
	Data []byte
	// Length is the packet's length on the wire.
	Length int
}

// Format names a capture file format.
type Format string

// The formats NewReader recognises.
const (
	FormatPcap   Format = "pcap"
	FormatPcapNG Format = "pcapng"
)

// ErrFormat is returned by NewReader for input that is neither pcap nor
// pcapng.
var ErrFormat = errors.New("not a pcap or pcapng capture")

// Reader reads records from a capture.
type Reader struct {
	format Format
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
}

// Magic numbers, as they appear in the first four bytes.
var (
	magicGzip = []byte{0x1f, 0x8b}
	magicNG   = []byte{0x0a, 0x0d, 0x0d, 0x0a}
)

// NewReader detects the format of r and reads its file header.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(4)
	if len(head) >= 2 && head[0] == magicGzip[0] && head[1] == magicGzip[1] {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		br = bufio.NewReader(zr)
		head, _ = br.Peek(4)
	}
	if len(head) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, len(head))
	}
	switch {
	case string(head) == string(magicNG):
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		return &Reader{format: FormatPcapNG, ng: ng}, nil
	case isPcapMagic(head):
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pcap: %w", err)
		}
		return &Reader{format: FormatPcap, pcap: p}, nil
	}
	return nil, fmt.Errorf("%w: magic %x", ErrFormat, head)
}

// isPcapMagic recognises the microsecond and nanosecond pcap magics in
// either byte order.
func isPcapMagic(b []byte) bool {
	for _, m := range []uint32{0xa1b2c3d4, 0xa1b23c4d} {
		if binary.LittleEndian.Uint32(b) == m || binary.BigEndian.Uint32(b) == m {
			return true
		}
	}
	return false
}

// Format returns the detected format.
func (r *Reader) Format() Format { return r.format }

// Next returns the next record, or io.EOF after the last. A capture cut off
// in the middle of a record gives io.ErrUnexpectedEOF. After an error other
// than io.EOF, the capture cannot be read further.
func (r *Reader) Next() (Record, error) {
	if r.pcap != nil {
		data, ci, err := r.pcap.ReadPacketData()
		if err != nil {
			return Record{}, err
		}
		return Record{Time: ci.Timestamp, LinkType: LinkType(r.pcap.LinkType()), Data: data, Length: ci.Length}, nil
	}
	data, ci, err := r.ng.ReadPacketData()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Time: ci.Timestamp, Data: data, Length: ci.Length}
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			rec.LinkType = LinkType(lt)
		}
	}
	if intf, err := r.ng.Interface(ci.InterfaceIndex); err == nil {
		rec.Interface = intf.Name
	}
	return rec, nil
}
