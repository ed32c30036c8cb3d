package vrrp

import (
	"errors"
	"fmt"
)

// Reason names one receive-validation rule. Each Reason is itself an error,
// so the constants below work as sentinels with errors.Is, and being
// constants they cannot be reassigned by accident.
type Reason uint8

// Validation rules, one per check of RFC 5798 §7.1 / RFC 3768 §7.1 (plus the
// IP-level checks DecodeIP needs). The string in each comment is Name().
const (
	ErrTTL       Reason = iota + 1 // "ttl": TTL/hop limit is not 255
	ErrVersion                     // "version": not 2 or 3, or not the configured version
	ErrType                        // "type": message type is not Advertisement (1)
	ErrChecksum                    // "checksum": checksum does not verify
	ErrLength                      // "length": too short, or length disagrees with the address count
	ErrAddrCount                   // "addr-count": more addresses than the decoder can hold
	ErrAuthType                    // "auth-type": v2 auth type unknown or not the configured one
	ErrAuth                        // "auth": v2 simple password mismatch
	ErrInterval                    // "interval": v2 interval differs from ours, or a zero interval
	ErrFamily                      // "family": address family wrong, mixed, or v2 over IPv6
	ErrProtocol                    // "protocol": IP protocol / next header is not 112 (or AH's next header is not 112)
	ErrAHICV                       // "ah-icv": the AH HMAC-MD5-96 does not verify: wrong key, or a changed packet
	ErrAHSPI                       // "ah-spi": the AH SPI is not the IP source address (keepalived's rule)
	ErrAHSeq                       // "ah-seq": the AH sequence number is not above the last one accepted (a replay)
)

// Reasons lists every Reason, for callers that pre-register per-reason
// metrics.
func Reasons() []Reason {
	return []Reason{ErrTTL, ErrVersion, ErrType, ErrChecksum, ErrLength, ErrAddrCount,
		ErrAuthType, ErrAuth, ErrInterval, ErrFamily, ErrProtocol, ErrAHICV, ErrAHSPI, ErrAHSeq}
}

// Name returns the rule's short stable name, suitable as a metric label.
func (r Reason) Name() string {
	switch r {
	case ErrTTL:
		return "ttl"
	case ErrVersion:
		return "version"
	case ErrType:
		return "type"
	case ErrChecksum:
		return "checksum"
	case ErrLength:
		return "length"
	case ErrAddrCount:
		return "addr-count"
	case ErrAuthType:
		return "auth-type"
	case ErrAuth:
		return "auth"
	case ErrInterval:
		return "interval"
	case ErrFamily:
		return "family"
	case ErrProtocol:
		return "protocol"
	case ErrAHICV:
		return "ah-icv"
	case ErrAHSPI:
		return "ah-spi"
	case ErrAHSeq:
		return "ah-seq"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Error makes a Reason usable as a sentinel error.
func (r Reason) Error() string { return "vrrp: invalid " + r.Name() }

// ValidationError is the error returned for a rejected or unencodable
// packet: the rule that failed plus a human-readable detail.
type ValidationError struct {
	Reason Reason
	Detail string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return "vrrp: invalid " + e.Reason.Name() + ": " + e.Detail
}

// Unwrap exposes the Reason so errors.Is(err, ErrChecksum) works.
func (e *ValidationError) Unwrap() error { return e.Reason }

// ReasonOf extracts the validation Reason from err (however wrapped), or
// reports false if err is not a validation failure.
func ReasonOf(err error) (Reason, bool) {
	var r Reason
	if errors.As(err, &r) {
		return r, true
	}
	return 0, false
}

// invalid builds a ValidationError; it is only called on the failure path,
// so formatting cost does not touch the zero-allocation success path.
func invalid(r Reason, format string, args ...any) error {
	return &ValidationError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}
