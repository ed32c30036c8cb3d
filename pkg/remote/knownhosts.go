package remote

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostDB is the known_hosts files of a node, matched as OpenSSH matches
// them (hostfile.c, match.c). x/crypto's knownhosts differs where ports
// meet patterns: it splits each pattern into host and port and applies a
// pattern without a port to port 22 only, so "[10.0.0.*]:2201,!*" accepts
// 10.0.0.5 on port 2201 (its "!*" means "not on port 22"), a bare "*"
// never matches another port, and "[h]:22*" matches no port at all. OpenSSH
// matches the whole pattern list, as text, against "host" on port 22 and
// "[host]:port" otherwise, so there "!*" refuses every host on every port.
//
// The errors are x/crypto's types (*knownhosts.KeyError and
// *knownhosts.RevokedError), so callers read them as before.
type hostDB struct {
	lines   []hostLine
	revoked map[string]knownhosts.KnownKey // by the key's wire form
}

// hostLine is one known_hosts entry.
type hostLine struct {
	cert  bool   // @cert-authority
	hosts string // the host field: a pattern list, or one |1|salt|hash
	known knownhosts.KnownKey
}

// newHostDB reads the files; a missing file must have been left out by the
// caller. As OpenSSH does, lines that do not parse are skipped; a file
// with invalid lines and no valid one is an error, which is likely a file
// that is no known_hosts at all.
func newHostDB(files ...string) (*hostDB, error) {
	db := &hostDB{revoked: map[string]knownhosts.KnownKey{}}
	for _, f := range files {
		if err := db.read(f); err != nil {
			return nil, err
		}
	}
	return db, nil
}

func (db *hostDB) read(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var firstErr error
	valid := 0
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
		if errors.Is(err, io.EOF) {
			err = errors.New("not a known_hosts entry")
		}
		if err == nil && len(hosts) == 0 {
			err = errors.New("no host pattern")
		}
		if err == nil && marker != "" && marker != "cert-authority" && marker != "revoked" {
			err = fmt.Errorf("unknown marker @%s", marker)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("known_hosts: %s:%d: %w", file, n, err)
			}
			continue
		}
		valid++
		kk := knownhosts.KnownKey{Key: key, Filename: file, Line: n}
		if marker == "revoked" {
			// Refused for every host, as x/crypto does: stricter than
			// OpenSSH, which revokes it for the hosts of the line.
			db.revoked[string(key.Marshal())] = kk
			continue
		}
		db.lines = append(db.lines, hostLine{cert: marker == "cert-authority", hosts: strings.Join(hosts, ","), known: kk})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("known_hosts: %s: %w", file, err)
	}
	if valid == 0 && firstErr != nil {
		return fmt.Errorf("%w (and no valid entry)", firstErr)
	}
	return nil
}

// callback is the ssh.HostKeyCallback over the database: host keys by
// line, host certificates by @cert-authority lines. address is
// "host:port", the name known_hosts is searched for.
func (db *hostDB) callback() ssh.HostKeyCallback {
	cc := &ssh.CertChecker{
		IsHostAuthority: db.isHostAuthority,
		IsRevoked:       db.isRevoked,
		HostKeyFallback: db.check,
	}
	return cc.CheckHostKey
}

// check checks a plain host key.
func (db *hostDB) check(address string, _ net.Addr, key ssh.PublicKey) error {
	if r, ok := db.revoked[string(key.Marshal())]; ok {
		return &knownhosts.RevokedError{Revoked: r}
	}
	name := lookupName(address)
	ke := &knownhosts.KeyError{}
	for _, l := range db.lines {
		if l.cert || !matchHostField(l.hosts, name) {
			continue
		}
		ke.Want = append(ke.Want, l.known)
		if bytes.Equal(l.known.Key.Marshal(), key.Marshal()) {
			return nil
		}
	}
	return ke
}

func (db *hostDB) isHostAuthority(auth ssh.PublicKey, address string) bool {
	name := lookupName(address)
	for _, l := range db.lines {
		if l.cert && bytes.Equal(l.known.Key.Marshal(), auth.Marshal()) && matchHostField(l.hosts, name) {
			return true
		}
	}
	return false
}

func (db *hostDB) isRevoked(c *ssh.Certificate) bool {
	_, k := db.revoked[string(c.Key.Marshal())]
	_, s := db.revoked[string(c.SignatureKey.Marshal())]
	return k || s
}

// lookupName is the string OpenSSH matches known_hosts patterns against:
// the host, lower-cased, alone on port 22 and as "[host]:port" on any
// other port.
func lookupName(address string) string {
	return strings.ToLower(knownhosts.Normalize(address))
}

// matchHostField reports whether a known_hosts host field matches name
// (from lookupName): a hashed entry ("|1|salt|hash", HMAC-SHA1 of the name)
// or a comma-separated pattern list.
func matchHostField(field, name string) bool {
	if strings.HasPrefix(field, "|") {
		return matchHashed(field, name)
	}
	return matchPatternList(name, field) == 1
}

// matchHashed matches a hashed host: exactly "|1|" salt "|" hash, both
// base64; anything else matches nothing.
func matchHashed(field, name string) bool {
	parts := strings.Split(field, "|")
	if len(parts) != 4 || parts[0] != "" || parts[1] != "1" {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	sum, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) != sha1.Size {
		return false
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(name))
	return hmac.Equal(mac.Sum(nil), sum)
}

// maxSubpattern is OpenSSH's bound on one pattern of a list; a longer one
// makes the whole list match nothing.
const maxSubpattern = 1023

// matchPatternList is OpenSSH's match_pattern_list over s, lower-cased
// patterns: 1 when a pattern matches and no negated one does, -1 when a
// negated one ("!pat") matches, wherever it stands in the list, 0 when none
// matches.
func matchPatternList(s, list string) int {
	got := 0
	for _, p := range strings.Split(list, ",") {
		negated := strings.HasPrefix(p, "!")
		if negated {
			p = p[1:]
		}
		if len(p) > maxSubpattern {
			return 0
		}
		if matchPattern(s, strings.ToLower(p)) {
			if negated {
				return -1
			}
			got = 1
		}
	}
	return got
}

// matchPattern is OpenSSH's match_pattern: "*" matches any run of
// characters (separators included), "?" any one character, the rest
// themselves. It runs in O(len(s)*len(pat)).
func matchPattern(s, pat string) bool {
	// Iterative glob with one backtrack point: the last star.
	si, pi := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && (pat[pi] == '?' || pat[pi] == s[si]):
			si++
			pi++
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}
