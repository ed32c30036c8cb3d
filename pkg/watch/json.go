package watch

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"time"
)

// TimeFormat is RFC 3339 with all nine digits of nanoseconds, so that
// timestamps line up and sort as text.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// packetJSON is the NDJSON object of one packet (docs/json.md, "hactl
// watch"). Pointers and omitempty leave out what the packet was too short
// to carry, and the VRRPv2-only fields of VRRPv3 packets.
type packetJSON struct {
	Time           string       `json:"time"`
	Interface      string       `json:"interface"`
	SrcMAC         string       `json:"src_mac,omitempty"`
	Node           string       `json:"node,omitempty"`
	Src            *netip.Addr  `json:"src,omitempty"`
	Dst            *netip.Addr  `json:"dst,omitempty"`
	TTL            *int         `json:"ttl,omitempty"`
	Version        *int         `json:"version,omitempty"`
	Type           *int         `json:"type,omitempty"`
	VRID           *int         `json:"vrid,omitempty"`
	Priority       *int         `json:"priority,omitempty"`
	Count          *int         `json:"count,omitempty"`
	IntervalCS     *int         `json:"interval_cs,omitempty"`
	AuthType       *int         `json:"auth_type,omitempty"`
	AuthData       *string      `json:"auth_data,omitempty"`
	AH             *ahJSON      `json:"ah,omitempty"`
	Addresses      []netip.Addr `json:"addresses"`
	Checksum       *int         `json:"checksum,omitempty"`
	Valid          bool         `json:"valid"`
	Error          string       `json:"error,omitempty"`
	Detail         string       `json:"detail,omitempty"`
	Flags          []string     `json:"flags"`
	ConflictWith   []netip.Addr `json:"conflict_with,omitempty"`
	DualMasterWith []netip.Addr `json:"dual_master_with,omitempty"`
}

// ahJSON is the AH header of an AH packet. ICV is always "unchecked":
// watch has no key.
type ahJSON struct {
	SPI uint32 `json:"spi"`
	Seq uint32 `json:"seq"`
	ICV string `json:"icv"`
}

// MarshalJSON renders the packet as documented in docs/json.md.
func (p Packet) MarshalJSON() ([]byte, error) {
	j := packetJSON{
		Time: p.Time.UTC().Format(TimeFormat), Interface: p.Interface, Node: p.Node,
		Addresses: p.Addresses, Valid: p.Valid, Error: p.Error, Detail: p.Detail,
		Flags: p.Flags.Names(), ConflictWith: p.ConflictWith, DualMasterWith: p.DualMasterWith,
	}
	if j.Addresses == nil {
		j.Addresses = []netip.Addr{}
	}
	if len(p.SrcMAC) > 0 {
		j.SrcMAC = p.SrcMAC.String()
	}
	if p.HasIP {
		j.Src, j.Dst, j.TTL = &p.Src, &p.Dst, &p.TTL
	}
	if p.AH {
		j.AH = &ahJSON{SPI: p.AHSPI, Seq: p.AHSeq, ICV: "unchecked"}
	}
	if p.HasHeader {
		j.Version, j.Type, j.VRID, j.Priority = &p.Version, &p.Type, &p.VRID, &p.Priority
		j.Count, j.IntervalCS, j.Checksum = &p.Count, &p.IntervalCS, &p.Checksum
		if p.Version == 2 {
			s := AuthText(p.AuthType, p.AuthData)
			j.AuthType, j.AuthData = &p.AuthType, &s
		}
	}
	return json.Marshal(j)
}

// AuthText renders VRRPv2 authentication data: the password as text for
// PASS (type 1) when it is printable, up to its first NUL; otherwise, and
// for other types, the 8 bytes in hex.
func AuthText(typ int, data [8]byte) string {
	if typ == 1 {
		pw := data[:]
		if i := bytes.IndexByte(pw, 0); i >= 0 {
			pw = pw[:i]
		}
		printable := true
		for _, c := range pw {
			if c < 0x20 || c > 0x7e {
				printable = false
			}
		}
		if printable {
			return string(pw)
		}
	}
	return hex.EncodeToString(data[:])
}

// FormatTime renders t as the JSON does.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }
