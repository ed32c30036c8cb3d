package config

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// parseUint reads an unsigned decimal the way keepalived's read_unsigned
// does: leading blanks and a '+' are allowed, a '-' is not.
func parseUint(s string, lo, hi uint64) (uint64, error) {
	t := strings.TrimLeft(s, " \t")
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("negative number %q", s)
	}
	t = strings.TrimPrefix(t, "+")
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("number %q outside range [%d, %d]", s, lo, hi)
		}
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("number %q outside range [%d, %d]", s, lo, hi)
	}
	return v, nil
}

// parseInt reads a signed decimal like keepalived's read_int.
func parseInt(s string, lo, hi int64) (int64, error) {
	t := strings.TrimLeft(s, " \t")
	t = strings.TrimPrefix(t, "+")
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("number %q outside range [%d, %d]", s, lo, hi)
		}
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("number %q outside range [%d, %d]", s, lo, hi)
	}
	return v, nil
}

// timerDigits is keepalived's timer resolution: microseconds.
const timerDigits = 6

// parseSeconds reads a decimal number of seconds with up to six decimal
// places (keepalived's TIMER type) and checks it lies in [lo, hi]. More
// decimal places are rounded, with a warning message in note.
func parseSeconds(s string, lo, hi time.Duration) (d time.Duration, note string, err error) {
	if strings.HasPrefix(s, "-") {
		return 0, "", fmt.Errorf("negative number %q", s)
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, "", fmt.Errorf("invalid number %q", s)
	}
	roundUp := false
	if len(frac) > timerDigits {
		note = fmt.Sprintf("number %q has more than %d decimal places; rounded", s, timerDigits)
		roundUp = frac[timerDigits] >= '5'
		if !allDigits(frac[timerDigits:]) {
			return 0, "", fmt.Errorf("invalid number %q", s)
		}
		frac = frac[:timerDigits]
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return 0, "", fmt.Errorf("invalid number %q", s)
	}
	frac += strings.Repeat("0", timerDigits-len(frac))
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	us, perr := strconv.ParseUint(digits, 10, 64)
	if perr != nil || us > math.MaxInt64/uint64(time.Microsecond)-1 {
		return 0, "", fmt.Errorf("number %q outside range [%s, %s]", s, fmtSeconds(lo), fmtSeconds(hi))
	}
	if roundUp {
		us++
	}
	d = time.Duration(us) * time.Microsecond
	if d < lo || d > hi {
		return 0, "", fmt.Errorf("number %q outside range [%s, %s]", s, fmtSeconds(lo), fmtSeconds(hi))
	}
	return d, note, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// fmtSeconds prints a duration as a plain number of seconds.
func fmtSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// parseBool reads keepalived's <BOOL>: on|off|true|false|yes|no.
func parseBool(s string) (bool, error) {
	switch s {
	case "on", "true", "yes":
		return true, nil
	case "off", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want on, off, true, false, yes or no)", s)
}

// parseAddr reads a bare IPv4 or IPv6 address. Zones are refused: hactl
// takes the interface from the configuration.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("invalid IP address %q", s)
	}
	return a.Unmap(), nil
}

// parsePrefix reads an address with an optional /len; without one the
// length is the full address length.
func parsePrefix(s string) (netip.Prefix, error) {
	addr, bits, hasLen := strings.Cut(s, "/")
	a, err := parseAddr(addr)
	if err != nil {
		return netip.Prefix{}, err
	}
	n := a.BitLen()
	if hasLen {
		v, err := parseUint(bits, 0, uint64(a.BitLen()))
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid prefix length %q for address %s", bits, addr)
		}
		n = int(v)
	}
	return netip.PrefixFrom(a, n), nil
}

// familyOf returns the family of an address.
func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return FamilyIPv4
	}
	return FamilyIPv6
}

// validIfName reports whether name can be a Linux interface name.
func validIfName(name string) bool {
	if name == "" || len(name) >= 16 || name == "." || name == ".." {
		return false
	}
	return !strings.ContainsAny(name, "/: \t\n")
}
