package remote

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostPatternCases are known_hosts host fields, a host:port looked up, and
// whether OpenSSH matches them. xcrypto is what x/crypto's knownhosts said
// where it differs (the reason for hostDB).
var hostPatternCases = []struct {
	field   string // "HASH(name)" is a hashed entry of name
	address string
	want    bool
	xcrypto string
}{
	// issue 20: the negation applies to "[10.0.0.5]:2201", whatever the port
	{"[10.0.0.*]:2201,!*", "10.0.0.5:2201", false, "matched: !* meant port 22 only"},
	{"[10.0.0.*]:2201", "10.0.0.5:2201", true, ""},
	{"[10.0.0.*]:2201", "10.0.0.5:22", false, ""},
	{"[10.0.0.*]:2201", "10.0.0.5:2202", false, ""},
	{"[10.0.0.*]:2201", "10.0.1.5:2201", false, ""},
	{"10.0.0.*", "10.0.0.5:22", true, ""},
	{"10.0.0.*", "10.0.0.5:2201", false, ""},
	{"*", "10.0.0.5:2201", true, "no match: * meant port 22 only"},
	{"*", "10.0.0.5:22", true, ""},
	{"!*", "10.0.0.5:22", false, ""},
	{"*,!10.0.0.5", "10.0.0.5:22", false, ""},
	{"*,!10.0.0.5", "10.0.0.5:2201", true, "no match"},
	{"!10.0.0.5,10.0.0.*", "10.0.0.5:22", false, ""},
	{"!10.0.0.5,10.0.0.*", "10.0.0.6:22", true, ""},
	{"10.0.0.*,![10.0.0.5]:2201,[10.0.0.5]:2201", "10.0.0.5:2201", false, ""},
	// wildcards in the port, which OpenSSH matches as text
	{"[10.0.0.5]:22*", "10.0.0.5:2201", true, "no match: port compared exactly"},
	{"[10.0.0.5]:220?", "10.0.0.5:2201", true, "no match"},
	// port 22 is looked up as the bare host
	{"[10.0.0.5]:22", "10.0.0.5:22", false, "matched"},
	{"10.0.0.5:2201", "10.0.0.5:2201", false, "matched: split as host:port"},
	// case, ?, names, IPv6
	{"Node1.Example.COM", "node1.example.com:22", true, "no match: case-sensitive"},
	{"node1.example.com", "NODE1.example.com:22", true, "no match: case-sensitive"},
	{"node?", "node1:22", true, ""},
	{"node?", "node12:22", false, ""},
	{"*.example.com", "a.example.com:2201", false, ""},
	{"[*.example.com]:2201", "a.example.com:2201", true, ""},
	{"[fd77::*]:2201", "[fd77::11]:2201", true, ""},
	{"fd77::11", "[fd77::11]:22", true, ""},
	{",10.0.0.5", "10.0.0.5:22", true, ""},
	// hashed entries: unchanged
	{"HASH([10.0.0.5]:2201)", "10.0.0.5:2201", true, ""},
	{"HASH([10.0.0.5]:2201)", "10.0.0.5:22", false, ""},
	{"HASH(10.0.0.5)", "10.0.0.5:22", true, ""},
	{"HASH(10.0.0.5)", "10.0.0.6:22", false, ""},
	{"|1|bm90IGJhc2U2NA|x", "10.0.0.5:22", false, "the whole file refused"},
}

func hashedField(f string) string {
	if name, ok := strings.CutPrefix(f, "HASH("); ok {
		return knownhosts.HashHostname(strings.TrimSuffix(name, ")"))
	}
	return f
}

// TestHostPatterns checks hostDB against the table and, where ssh-keygen
// is installed, the table against OpenSSH itself (ssh-keygen -F searches
// known_hosts with ssh's own matching).
func TestHostPatterns(t *testing.T) {
	keygen, _ := exec.LookPath("ssh-keygen")
	key := testKey(t, 7)
	other := testKey(t, 8)
	for _, tt := range hostPatternCases {
		t.Run(tt.field+"@"+tt.address, func(t *testing.T) {
			field := hashedField(tt.field)
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte(knownhostsLine(field, key)), 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := newHostDB(kh)
			if err != nil {
				t.Fatal(err)
			}
			cb := db.callback()
			err = cb(tt.address, &net.TCPAddr{IP: net.IPv4zero}, key)
			if got := err == nil; got != tt.want {
				t.Errorf("hostDB: match = %v (%v), want %v (x/crypto: %s)", got, err, tt.want, tt.xcrypto)
			}
			// Another key for a matching host is a mismatch, for a
			// host that does not match it is unknown.
			var ke *knownhosts.KeyError
			if err := cb(tt.address, nil, other); !errors.As(err, &ke) || (len(ke.Want) > 0) != tt.want {
				t.Errorf("other key: %v, want a KeyError with known keys = %v", err, tt.want)
			}
			if keygen == "" {
				return
			}
			out, err := exec.Command(keygen, "-F", lookupName(tt.address), "-f", kh).Output()
			if found := err == nil && len(out) > 0; found != tt.want {
				t.Errorf("OpenSSH (ssh-keygen -F %s) says match = %v, the table %v", lookupName(tt.address), found, tt.want)
			}
		})
	}
}

func knownhostsLine(field string, key ssh.PublicKey) string {
	return field + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + "\n"
}

func TestMatchPattern(t *testing.T) {
	for _, tt := range []struct {
		s, pat string
		want   bool
	}{
		{"", "", true}, {"", "*", true}, {"a", "", false}, {"abc", "a*c", true}, {"abc", "a*b", false},
		{"abc", "*?*", true}, {"ab", "???", false}, {"aaaaaaaaaaaaaaaaaaaab", "a*a*a*a*a*a*a*a*b", true},
		{"aaaaaaaaaaaaaaaaaaaaa", "a*a*a*a*a*a*a*a*b", false}, {"[h]:22", "[h]:2*", true}, {"x*y", "x*y", true},
	} {
		if got := matchPattern(tt.s, tt.pat); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.s, tt.pat, got, tt.want)
		}
	}
}

// Markers keep their meaning: @revoked refuses the key for every host,
// @cert-authority lines are no host keys, and a file of garbage is an
// error while a garbage line among good ones is skipped.
func TestHostDBMarkersAndErrors(t *testing.T) {
	dir := t.TempDir()
	key, ca := testKey(t, 1), testKey(t, 2)
	kh := filepath.Join(dir, "known_hosts")
	body := "# comment\n\nnot a valid line\n" + knownhostsLine("@revoked 10.0.0.9", key) + knownhostsLine("@cert-authority *", ca) + knownhostsLine("10.0.0.5", key)
	if err := os.WriteFile(kh, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := newHostDB(kh)
	if err != nil {
		t.Fatal(err)
	}
	var re *knownhosts.RevokedError
	if err := db.callback()("10.0.0.5:22", nil, key); !errors.As(err, &re) || re.Revoked.Line != 4 {
		t.Errorf("revoked key: %v", err)
	}
	var ke *knownhosts.KeyError
	if err := db.callback()("10.0.0.7:22", nil, ca); !errors.As(err, &ke) || len(ke.Want) != 0 {
		t.Errorf("a CA key offered as a host key: %v, want unknown", err)
	}
	if !db.isHostAuthority(ca, "any.example:2201") || db.isHostAuthority(key, "10.0.0.5:22") {
		t.Error("isHostAuthority")
	}
	bad := filepath.Join(dir, "garbage")
	if err := os.WriteFile(bad, []byte("garbage\nmore garbage here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newHostDB(bad); err == nil || !strings.Contains(err.Error(), bad+":1: not a known_hosts entry") {
		t.Errorf("a file of garbage: %v", err)
	}
}
