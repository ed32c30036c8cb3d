//go:build linux

package remote_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/inventory"
	"github.com/hactl/hactl/pkg/remote"
	"golang.org/x/crypto/ssh"
)

// knownHostsWith writes a known_hosts for the lab's nodes in which host
// (1-based) is listed with another key, or left out when key is nil.
func (e *e2e) knownHostsWith(t *testing.T, host int, key ssh.PublicKey) string {
	b, err := os.ReadFile(e.lab.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	h := e.lab.Node(host)
	for i, line := range lines {
		if strings.HasPrefix(line, h.Name+",") {
			if key == nil {
				lines = append(lines[:i], lines[i+1:]...)
			} else {
				lines[i] = h.Name + "," + h.Addr4.String() + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
			}
			break
		}
	}
	f := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func otherKey(t *testing.T) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (e *e2e) testMismatch(t *testing.T) {
	wrong := otherKey(t)
	kh := e.knownHostsWith(t, 2, wrong)
	n := e.node(t, "node2", inventory.Settings{KnownHosts: kh})
	_, err := e.pool(t, remote.Config{}).Client(n).Run(e.ctx, "true")
	if !errors.Is(err, remote.ErrHostKeyMismatch) {
		t.Fatalf("err = %v, want a host key mismatch", err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, want := range []string{
		"node2: host key mismatch for " + e.lab.Node(2).Addr4.String() + ": server offered ssh-ed25519 SHA256:",
		kh + ":2 has ssh-ed25519 " + ssh.FingerprintSHA256(wrong),
		"ssh-keygen -R",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

// known_hosts lists only an ECDSA key; the server has only ed25519: no
// common host-key algorithm, reported as a mismatch.
func (e *e2e) testMismatchKeyType(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	n := e.node(t, "node2", inventory.Settings{KnownHosts: e.knownHostsWith(t, 2, k)})
	_, err = e.pool(t, remote.Config{HostKeyPolicy: remote.HostKeyAcceptNew}).Client(n).Run(e.ctx, "true")
	t.Log(err)
	if !errors.Is(err, remote.ErrHostKeyMismatch) || !strings.Contains(err.Error(), "ecdsa-sha2-nistp256") {
		t.Errorf("err = %v", err)
	}
}

func (e *e2e) testAcceptNew(t *testing.T) {
	kh := e.knownHostsWith(t, 3, nil)
	before, _ := os.ReadFile(kh)
	n := e.node(t, "node3", inventory.Settings{KnownHosts: kh})

	_, err := e.pool(t, remote.Config{AcceptNewHint: "rerun with --accept-new"}).Client(n).Run(e.ctx, "true")
	if !errors.Is(err, remote.ErrHostKeyUnknown) {
		t.Fatalf("strict: err = %v, want unknown host", err)
	}
	t.Log(err)
	if msg := err.Error(); !strings.HasPrefix(msg, "node3: unknown host key for 10.77.0.13: server offered ssh-ed25519 SHA256:") ||
		!strings.Contains(msg, kh) || !strings.HasSuffix(msg, "rerun with --accept-new") {
		t.Errorf("unknown-host message: %s", msg)
	}
	if after, _ := os.ReadFile(kh); !bytes.Equal(before, after) {
		t.Errorf("strict mode changed %s", kh)
	}

	var notes bytes.Buffer
	_, err = e.pool(t, remote.Config{HostKeyPolicy: remote.HostKeyAcceptNew, Notes: &notes}).Client(n).Run(e.ctx, "true")
	if err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	after, _ := os.ReadFile(kh)
	added := strings.TrimPrefix(string(after), string(before))
	if !strings.HasPrefix(added, "10.77.0.13 ssh-ed25519 ") || strings.Count(added, "\n") != 1 {
		t.Errorf("accept-new appended %q", added)
	}
	if !strings.Contains(notes.String(), "node3: accepted new host key ssh-ed25519 SHA256:") || !strings.Contains(notes.String(), kh) {
		t.Errorf("notes = %q", notes.String())
	}

	// Second connect: the key is now known and checked strictly.
	if _, err := e.pool(t, remote.Config{}).Client(n).Run(e.ctx, "true"); err != nil {
		t.Errorf("strict after accept-new: %v", err)
	}
}

func (e *e2e) testAcceptNewChanged(t *testing.T) {
	kh := e.knownHostsWith(t, 1, otherKey(t))
	before, _ := os.ReadFile(kh)
	n := e.node(t, "node1", inventory.Settings{KnownHosts: kh})
	var notes bytes.Buffer
	_, err := e.pool(t, remote.Config{HostKeyPolicy: remote.HostKeyAcceptNew, Notes: &notes}).Client(n).Run(e.ctx, "true")
	if !errors.Is(err, remote.ErrHostKeyMismatch) {
		t.Fatalf("err = %v, want a mismatch even under accept-new", err)
	}
	t.Log(err)
	if after, _ := os.ReadFile(kh); !bytes.Equal(before, after) || notes.Len() > 0 {
		t.Errorf("accept-new wrote for a changed key: notes %q", notes.String())
	}
}

// startAgent runs ssh-agent on a socket of its own, with the lab's key.
func (e *e2e) startAgent(t *testing.T) string {
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("no ssh-agent")
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	var out bytes.Buffer
	agent.Stdout, agent.Stderr = &out, &out
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-agent did not create %s: %s", sock, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	add := exec.Command("ssh-add", e.lab.Identity)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if b, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, b)
	}
	return sock
}

func (e *e2e) testAgent(t *testing.T) {
	sock := e.startAgent(t)
	h := e.lab.Node(1)
	n := remote.Node{Name: "node1", Host: h.Addr4.String(), Port: 22, User: "root", KnownHosts: []string{e.lab.KnownHosts}}
	if _, err := e.pool(t, remote.Config{AgentSocket: sock}).Client(n).Run(e.ctx, "true"); err != nil {
		t.Errorf("agent auth: %v", err)
	}
	// The same node without the agent has nothing to offer.
	_, err := e.pool(t, remote.Config{}).Client(n).Run(e.ctx, "true")
	t.Log(err)
	if !errors.Is(err, remote.ErrNoKeys) || !strings.HasPrefix(err.Error(), "node1: ") {
		t.Errorf("no agent, no key: err = %v", err)
	}
}

func (e *e2e) testIdentity(t *testing.T) {
	h := e.lab.Node(2)
	n := remote.Node{Name: "node2", Host: h.Addr4.String(), Port: 22, User: "root", KnownHosts: []string{e.lab.KnownHosts}, Identities: []string{e.lab.Identity}}
	if _, err := e.pool(t, remote.Config{}).Client(n).Run(e.ctx, "true"); err != nil {
		t.Errorf("identity file auth: %v", err)
	}
	// A key the node does not accept.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "stranger")
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "id_bad")
	if err := os.WriteFile(bad, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	n.Identities = []string{bad}
	_, err = e.pool(t, remote.Config{}).Client(n).Run(e.ctx, "true")
	t.Log(err)
	if !errors.Is(err, remote.ErrAuth) || !strings.HasPrefix(err.Error(), "node2: ssh authentication failed as root@10.77.0.12:22: the server accepted none of the keys offered ("+bad) {
		t.Errorf("wrong key: err = %v", err)
	}
}
