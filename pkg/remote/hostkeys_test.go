package remote

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func testKey(t *testing.T, seed byte) ssh.PublicKey {
	t.Helper()
	s := bytes.Repeat([]byte{seed}, ed25519.SeedSize)
	k, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(s).Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHostKeyErrorMessages(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	kh := filepath.Join(home, ".ssh", "known_hosts")
	offered, known := testKey(t, 1), testKey(t, 2)

	mismatch := &HostKeyError{Kind: ErrHostKeyMismatch, Host: "192.0.2.12", Offered: offered,
		Known: []knownhosts.KnownKey{{Key: known, Filename: kh, Line: 12}}}
	err := nodeErr("server02", mismatch)
	want := "server02: host key mismatch for 192.0.2.12: server offered ssh-ed25519 " + ssh.FingerprintSHA256(offered) +
		", ~/.ssh/known_hosts:12 has ssh-ed25519 " + ssh.FingerprintSHA256(known) + "; "
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "ssh-keygen -R 192.0.2.12 -f ~/.ssh/known_hosts") {
		t.Errorf("got  %s\nwant %s...", err, want)
	}
	if !errors.Is(err, ErrHostKeyMismatch) {
		t.Error("errors.Is(ErrHostKeyMismatch) = false")
	}

	unknown := &HostKeyError{Kind: ErrHostKeyUnknown, Host: "[node3]:2222", Offered: offered, Files: []string{kh}, Hint: "rerun with --accept-new"}
	if got := unknown.Error(); got != "unknown host key for [node3]:2222: server offered ssh-ed25519 "+ssh.FingerprintSHA256(offered)+
		", which is not in ~/.ssh/known_hosts; check that fingerprint with the host's owner, then rerun with --accept-new" {
		t.Errorf("unknown: %s", got)
	}
}

// accept-new appends one line, after a newline if the file lacks one, and
// the callback then knows the host.
func TestAcceptNewAppends(t *testing.T) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "sub", "known_hosts")
	var notes bytes.Buffer
	p := NewPool(Config{HostKeyPolicy: HostKeyAcceptNew, Notes: &notes})
	n := Node{Name: "node3", Host: "192.0.2.13", Port: 2222, KnownHosts: []string{kh}}
	key := testKey(t, 3)

	if err := os.MkdirAll(filepath.Dir(kh), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kh, []byte("# no trailing newline"), 0o600); err != nil {
		t.Fatal(err)
	}
	hk, err := p.hostKeysFor(n)
	if err != nil {
		t.Fatal(err)
	}
	if algos := hk.algorithms(); algos != nil {
		t.Errorf("unknown host: algorithms %v, want nil (any)", algos)
	}
	if err := hk.check("", nil, key); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(kh)
	want := "# no trailing newline\n[192.0.2.13]:2222 " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + "\n"
	if string(b) != want {
		t.Errorf("file:\n%q\nwant\n%q", b, want)
	}
	if !strings.HasPrefix(notes.String(), "hactl: node3: accepted new host key ssh-ed25519 ") {
		t.Errorf("notes %q", notes.String())
	}

	// Now known: the same key passes strictly, another is a mismatch at line 2.
	strict := NewPool(Config{})
	hk, err = strict.hostKeysFor(n)
	if err != nil {
		t.Fatal(err)
	}
	if got := hk.algorithms(); len(got) != 1 || got[0] != ssh.KeyAlgoED25519 {
		t.Errorf("algorithms %v", got)
	}
	if err := hk.check("", nil, key); err != nil {
		t.Errorf("known key refused: %v", err)
	}
	err = hk.check("", nil, testKey(t, 4))
	var he *HostKeyError
	if !errors.As(err, &he) || he.Kind != ErrHostKeyMismatch || he.Known[0].Line != 2 {
		t.Errorf("changed key: %v", err)
	}
}

func TestHashKnownHosts(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	p := NewPool(Config{HostKeyPolicy: HostKeyAcceptNew})
	n := Node{Name: "h", Host: "192.0.2.20", KnownHosts: []string{kh}, HashKnownHosts: true}
	hk, _ := p.hostKeysFor(n)
	if err := hk.check("", nil, testKey(t, 5)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(kh)
	if !strings.HasPrefix(string(b), "|1|") || strings.Contains(string(b), "192.0.2.20") {
		t.Errorf("not hashed: %q", b)
	}
	hk, _ = NewPool(Config{}).hostKeysFor(n)
	if err := hk.check("", nil, testKey(t, 5)); err != nil {
		t.Errorf("hashed entry not matched: %v", err)
	}
}

// A pool parses a known_hosts file once for all its nodes, and again after
// accept-new wrote to it.
func TestHostDBReadOncePerPool(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("[192.0.2.30]:22 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(testKey(t, 6))))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := NewPool(Config{HostKeyPolicy: HostKeyAcceptNew})
	a := Node{Name: "a", Host: "192.0.2.30", KnownHosts: []string{kh}}
	b := Node{Name: "b", Host: "192.0.2.31", KnownHosts: []string{kh}}
	first, err := p.hostDB([]string{kh})
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := p.hostDB([]string{kh}); again != first {
		t.Fatal("second node re-read known_hosts")
	}
	if hk, err := p.hostKeysFor(a); err != nil || hk.check("", nil, testKey(t, 6)) != nil {
		t.Fatalf("known key of a refused: %v", err)
	}
	hk, err := p.hostKeysFor(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := hk.check("", nil, testKey(t, 7)); err != nil { // accept-new writes b's key
		t.Fatal(err)
	}
	after, err := p.hostDB([]string{kh})
	if err != nil || after == first {
		t.Fatalf("accept-new did not make the pool read known_hosts again (%v)", err)
	}
	if hk, _ := p.hostKeysFor(b); hk.check("", nil, testKey(t, 7)) != nil {
		t.Error("b's accepted key unknown to the pool's next read")
	}
}
