// Package pcapread reads packet captures (tcpdump's pcap, and pcapng, either
// possibly gzip-compressed) and strips the link-layer header from each
// record, so hactl can analyse captures made anywhere, on any OS.
//
// The container formats are read here, in pure Go (no libpcap, no cgo):
// pcap with microsecond or nanosecond timestamps in either byte order, and
// pcapng's section, interface description, enhanced and simple packet
// blocks in either byte order (other blocks are skipped). Hostile lengths
// cannot make it allocate more than the bytes actually present, and a
// record or block is capped at MaxRecord bytes. (gopacket's pcapgo did
// this job first; it pulls in gopacket/layers, whose 5 MB of global tables
// every Go program must keep resident and scan, the hactl daemon included.)
// A small link-layer decoder handles the link types tcpdump writes for
// VRRP: Ethernet, Linux cooked capture v1 and v2 (tcpdump -i any), raw IP,
// and BSD loopback.
package pcapread

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
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

// MaxRecord bounds one record or block.
const MaxRecord = 1 << 20

// Reader reads records from a capture.
type Reader struct {
	format Format
	r      *bufio.Reader
	bo     binary.ByteOrder
	// pcap: the file's link type and whether timestamps are nanoseconds.
	link LinkType
	nano bool
	// pcapng: the current section's interfaces.
	ifaces []ngIface
}

type ngIface struct {
	link    LinkType
	name    string
	snaplen uint32
	// units per second of the timestamps (if_tsresol; default 10^6).
	units uint64
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
		rd := &Reader{format: FormatPcapNG, r: br}
		if err := rd.readSection(); err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		return rd, nil
	case isPcapMagic(head):
		rd := &Reader{format: FormatPcap, r: br}
		if err := rd.readPcapHeader(); err != nil {
			return nil, fmt.Errorf("pcap: %w", err)
		}
		return rd, nil
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
	if r.format == FormatPcap {
		return r.nextPcap()
	}
	return r.nextNG()
}

func (r *Reader) readPcapHeader() error {
	var h [24]byte
	if _, err := io.ReadFull(r.r, h[:]); err != nil {
		return unexpected(err)
	}
	r.bo = binary.LittleEndian
	if m := binary.BigEndian.Uint32(h[:4]); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		r.bo = binary.BigEndian
	}
	r.nano = r.bo.Uint32(h[:4]) == 0xa1b23c4d
	// The upper bits of the link type field carry FCS flags.
	r.link = LinkType(r.bo.Uint32(h[20:]) & 0x0fffffff)
	return nil
}

func (r *Reader) nextPcap() (Record, error) {
	var h [16]byte
	if _, err := io.ReadFull(r.r, h[:]); err != nil {
		if err == io.EOF {
			return Record{}, io.EOF
		}
		return Record{}, unexpected(err)
	}
	sec, frac := r.bo.Uint32(h[0:]), r.bo.Uint32(h[4:])
	incl, orig := r.bo.Uint32(h[8:]), r.bo.Uint32(h[12:])
	if incl > MaxRecord {
		return Record{}, fmt.Errorf("pcap: record of %d bytes (more than %d)", incl, MaxRecord)
	}
	data, err := r.readN(int(incl))
	if err != nil {
		return Record{}, err
	}
	ns := int64(frac)
	if !r.nano {
		ns *= 1000
	}
	return Record{Time: time.Unix(int64(sec), ns).UTC(), LinkType: r.link, Data: data, Length: int(orig)}, nil
}

// readN reads n bytes, growing the buffer only as bytes arrive, so a
// hostile length costs no more memory than the input holds.
func (r *Reader) readN(n int) ([]byte, error) {
	var b bytes.Buffer
	m, err := io.CopyN(&b, r.r, int64(n))
	if m != int64(n) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b.Bytes(), nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// pcapng block types.
const (
	ngSHB = 0x0a0d0d0a
	ngIDB = 1
	ngSPB = 3
	ngEPB = 6
)

// readBlock reads one pcapng block and returns its type and body.
func (r *Reader) readBlock() (uint32, []byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r.r, h[:]); err != nil {
		return 0, nil, err
	}
	if binary.BigEndian.Uint32(h[:4]) == ngSHB {
		// A new section: its byte order comes from its own magic.
		var m [4]byte
		if _, err := io.ReadFull(r.r, m[:]); err != nil {
			return 0, nil, unexpected(err)
		}
		switch binary.LittleEndian.Uint32(m[:]) {
		case 0x1a2b3c4d:
			r.bo = binary.LittleEndian
		case 0x4d3c2b1a:
			r.bo = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("section header: byte-order magic %x", m)
		}
		total := r.bo.Uint32(h[4:])
		if total < 28 || total%4 != 0 || total > MaxRecord {
			return 0, nil, fmt.Errorf("section header: length %d", total)
		}
		body, err := r.readN(int(total) - 12)
		if err != nil {
			return 0, nil, err
		}
		return ngSHB, body[:len(body)-4], nil
	}
	if r.bo == nil {
		return 0, nil, errors.New("block before any section header")
	}
	typ, total := r.bo.Uint32(h[:4]), r.bo.Uint32(h[4:])
	if total < 12 || total%4 != 0 || total > MaxRecord {
		return 0, nil, fmt.Errorf("block type %#x: length %d", typ, total)
	}
	body, err := r.readN(int(total) - 8)
	if err != nil {
		return 0, nil, err
	}
	return typ, body[:len(body)-4], nil
}

func (r *Reader) readSection() error {
	typ, _, err := r.readBlock()
	if err != nil {
		return unexpected(err)
	}
	if typ != ngSHB {
		return errors.New("no section header")
	}
	r.ifaces = nil
	return nil
}

func (r *Reader) nextNG() (Record, error) {
	for {
		typ, body, err := r.readBlock()
		if err != nil {
			if err == io.EOF {
				return Record{}, io.EOF
			}
			return Record{}, unexpected(err)
		}
		switch typ {
		case ngSHB:
			r.ifaces = nil
		case ngIDB:
			if len(body) < 8 {
				return Record{}, errors.New("pcapng: short interface description")
			}
			ifc := ngIface{link: LinkType(r.bo.Uint16(body)), snaplen: r.bo.Uint32(body[4:]), units: 1_000_000}
			r.options(body[8:], func(code uint16, v []byte) {
				switch {
				case code == 2:
					ifc.name = string(bytes.TrimRight(v, "\x00"))
				case code == 9 && len(v) >= 1:
					ifc.units = tsUnits(v[0])
				}
			})
			r.ifaces = append(r.ifaces, ifc)
		case ngEPB:
			if len(body) < 20 {
				return Record{}, errors.New("pcapng: short enhanced packet block")
			}
			id := r.bo.Uint32(body)
			if int(id) >= len(r.ifaces) {
				return Record{}, fmt.Errorf("pcapng: packet on undeclared interface %d", id)
			}
			ifc := r.ifaces[id]
			ts := uint64(r.bo.Uint32(body[4:]))<<32 | uint64(r.bo.Uint32(body[8:]))
			capLen, orig := r.bo.Uint32(body[12:]), r.bo.Uint32(body[16:])
			if uint64(capLen) > uint64(len(body)-20) {
				return Record{}, fmt.Errorf("pcapng: captured length %d beyond its block", capLen)
			}
			return Record{Time: stamp(ts, ifc.units), Interface: ifc.name, LinkType: ifc.link, Data: body[20 : 20+capLen], Length: int(orig)}, nil
		case ngSPB:
			if len(body) < 4 || len(r.ifaces) == 0 {
				return Record{}, errors.New("pcapng: simple packet block without an interface")
			}
			ifc := r.ifaces[0]
			orig := r.bo.Uint32(body)
			n := min(uint64(orig), uint64(len(body)-4))
			if ifc.snaplen > 0 {
				n = min(n, uint64(ifc.snaplen))
			}
			return Record{Interface: ifc.name, LinkType: ifc.link, Data: body[4 : 4+n], Length: int(orig)}, nil
		}
	}
}

// options walks a block's options.
func (r *Reader) options(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, n := r.bo.Uint16(b), int(r.bo.Uint16(b[2:]))
		if code == 0 || 4+n > len(b) {
			return
		}
		fn(code, b[4:4+n])
		b = b[min(len(b), 4+(n+3)&^3):]
	}
}

// tsUnits decodes if_tsresol: 10^-n seconds, or 2^-n with the top bit.
func tsUnits(v byte) uint64 {
	n := uint64(v & 0x7f)
	if v&0x80 != 0 {
		if n > 63 {
			return 1 << 63
		}
		return 1 << n
	}
	u := uint64(1)
	for range min(n, 19) {
		u *= 10
	}
	return u
}

// stamp turns a timestamp in units per second into a time.
func stamp(ts, units uint64) time.Time {
	if units == 0 {
		units = 1_000_000
	}
	sec, frac := ts/units, ts%units
	if sec > math.MaxInt64/2 {
		sec = math.MaxInt64 / 2
	}
	ns := frac * 1_000_000_000 / units
	if units > 1_000_000_000 {
		ns = frac / (units / 1_000_000_000)
	}
	return time.Unix(int64(sec), int64(ns)).UTC()
}
