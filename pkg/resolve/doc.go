// Package resolve turns the VIP argument of hactl's operator commands into
// addresses: an IP literal as it is; otherwise the hosts file, then DNS
// (A and AAAA, through github.com/miekg/dns) with the nameservers of
// resolv.conf or an explicit server list. CNAME chains are followed and
// reported hop by hop, and the Result says which source answered.
//
// Short names are expanded with resolv.conf's search list the way glibc's
// res_search does (see docs/resolve.md): a name with at least ndots dots
// is tried as it is first, a shorter one after the search domains, and a
// name ending in a dot only as it is.
//
// Failures are typed: errors.Is(err, ErrNXDomain), ErrServFail, ErrRefused,
// ErrNoAddress or ErrTimeout, inside a *Error naming the name and server.
// The package never prints; diagnostics go to Resolver.Logger.
package resolve
