package remote

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyPolicy says what to do with a host key that known_hosts does not
// vouch for.
type HostKeyPolicy int

const (
	// HostKeyStrict refuses unknown and changed keys (OpenSSH's
	// StrictHostKeyChecking=yes). The default.
	HostKeyStrict HostKeyPolicy = iota
	// HostKeyAcceptNew appends the key of a host that no known_hosts file
	// lists to the node's first known_hosts file, with a note, and refuses
	// changed keys (StrictHostKeyChecking=accept-new).
	HostKeyAcceptNew
)

// String returns the ssh_config spelling of the policy.
func (p HostKeyPolicy) String() string {
	if p == HostKeyAcceptNew {
		return "accept-new"
	}
	return "yes"
}

// HostKeyError is a host key that was refused. Errors.Is matches it with
// ErrHostKeyUnknown, ErrHostKeyMismatch or ErrHostKeyRevoked.
type HostKeyError struct {
	// Kind is one of the three sentinels.
	Kind error
	// Host is the name looked up in known_hosts ("10.77.0.12" or
	// "[host]:2222").
	Host string
	// Offered is the key the server presented.
	Offered ssh.PublicKey
	// Known are the entries known_hosts has for the host (mismatch), or
	// the @revoked entry.
	Known []knownhosts.KnownKey
	// Files are the known_hosts files that were read (unknown host).
	Files []string
	// Hint tells how to accept an unknown key (Config.AcceptNewHint).
	Hint string
}

// Unwrap returns the Kind sentinel.
func (e *HostKeyError) Unwrap() error { return e.Kind }

// Error describes the refusal with the key offered, the known_hosts
// entries in conflict (file:line) and what to do.
func (e *HostKeyError) Error() string {
	offered := keyString(e.Offered)
	switch e.Kind {
	case ErrHostKeyMismatch:
		var known []string
		for _, k := range e.Known {
			known = append(known, fmt.Sprintf("%s:%d has %s", tildify(k.Filename), k.Line, keyString(k.Key)))
		}
		file := "FILE"
		if len(e.Known) > 0 {
			file = tildify(e.Known[0].Filename)
		}
		return fmt.Sprintf("host key mismatch for %s: server offered %s, %s; if the host was reinstalled, remove the old key (ssh-keygen -R %s -f %s) and connect again, otherwise someone may be intercepting the connection",
			e.Host, offered, strings.Join(known, ", "), e.Host, file)
	case ErrHostKeyRevoked:
		k := e.Known[0]
		return fmt.Sprintf("host key revoked for %s: server offered %s, marked @revoked at %s:%d", e.Host, offered, tildify(k.Filename), k.Line)
	default:
		files := make([]string, len(e.Files))
		for i, f := range e.Files {
			files[i] = tildify(f)
		}
		where := "no known_hosts file"
		if len(files) > 0 {
			where = strings.Join(files, ", ")
		}
		return fmt.Sprintf("unknown host key for %s: server offered %s, which is not in %s; check that fingerprint with the host's owner, then %s",
			e.Host, offered, where, e.Hint)
	}
}

const defaultAcceptHint = "accept it with host-key mode accept-new (as ssh -o StrictHostKeyChecking=accept-new)"

// keyString is "ssh-ed25519 SHA256:...".
func keyString(k ssh.PublicKey) string {
	if k == nil {
		return "no key"
	}
	return k.Type() + " " + ssh.FingerprintSHA256(k)
}

// tildify shortens a path under the home directory to ~/...
func tildify(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
		return "~/" + rel
	}
	return p
}

// probeKey is a key no server has; checking it makes knownhosts list the
// keys it knows for a host.
var probeKey = func() ssh.PublicKey {
	k, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		panic(err)
	}
	return k
}()

// hostKeys is the host-key check for one node.
type hostKeys struct {
	pool  *Pool
	node  Node
	files []string // existing known_hosts files, in order
	db    ssh.HostKeyCallback
	// noAccept refuses an unknown key even in accept-new mode (the
	// control port: a new key is learnt from sshd only).
	noAccept bool
}

func (p *Pool) hostKeysFor(n Node) (*hostKeys, error) {
	var files []string
	for _, f := range n.KnownHosts {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	db, err := p.hostDB(files)
	if err != nil {
		return nil, err
	}
	return &hostKeys{pool: p, node: n, files: files, db: db.callback()}, nil
}

// hostDB reads files into a database once per pool; later nodes with the
// same files share it (a hostDB is read-only once built). An error is not
// kept: the next node reads again.
func (p *Pool) hostDB(files []string) (*hostDB, error) {
	key := strings.Join(files, "\x00")
	p.dbMu.Lock()
	defer p.dbMu.Unlock()
	if db := p.dbs[key]; db != nil {
		return db, nil
	}
	db, err := newHostDB(files...)
	if err != nil {
		return nil, err
	}
	if p.dbs == nil {
		p.dbs = map[string]*hostDB{}
	}
	p.dbs[key] = db
	return db, nil
}

// forgetHostDBs drops the databases read so far, after a file changed.
func (p *Pool) forgetHostDBs() {
	p.dbMu.Lock()
	p.dbs = nil
	p.dbMu.Unlock()
}

// checkName is the address known_hosts is searched for.
func (h *hostKeys) checkName() string {
	if h.node.HostKeyAlias != "" {
		_, port, _ := net.SplitHostPort(h.node.Addr())
		return net.JoinHostPort(h.node.HostKeyAlias, port)
	}
	return h.node.Addr()
}

// algorithms lists host-key algorithms for the key types known_hosts has
// for the host, so that a server with several keys offers one we can
// check (as OpenSSH orders them); nil when the host is unknown.
func (h *hostKeys) algorithms() []string {
	var ke *knownhosts.KeyError
	if err := h.db(h.checkName(), &net.TCPAddr{IP: net.IPv4zero}, probeKey); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				algos = append(algos, x)
			}
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

// check is the ssh.HostKeyCallback.
func (h *hostKeys) check(_ string, remote net.Addr, key ssh.PublicKey) error {
	name := h.checkName()
	if remote == nil {
		remote = &net.TCPAddr{IP: net.IPv4zero} // knownhosts parses it even though it checks name
	}
	err := h.db(name, remote, key)
	if err == nil {
		return nil
	}
	host := knownhosts.Normalize(name)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return &HostKeyError{Kind: ErrHostKeyRevoked, Host: host, Offered: key, Known: []knownhosts.KnownKey{re.Revoked}}
	case errors.As(err, &ke) && len(ke.Want) > 0:
		return &HostKeyError{Kind: ErrHostKeyMismatch, Host: host, Offered: key, Known: ke.Want}
	case errors.As(err, &ke):
		if h.pool.cfg.HostKeyPolicy == HostKeyAcceptNew && !h.noAccept {
			return h.pool.acceptNew(h.node, host, key)
		}
		hint := h.pool.cfg.AcceptNewHint
		if hint == "" {
			hint = defaultAcceptHint
		}
		return &HostKeyError{Kind: ErrHostKeyUnknown, Host: host, Offered: key, Files: h.node.KnownHosts, Hint: hint}
	}
	return err
}

// acceptNew appends key for host to the node's first known_hosts file.
func (p *Pool) acceptNew(n Node, host string, key ssh.PublicKey) error {
	if len(n.KnownHosts) == 0 {
		return fmt.Errorf("accept-new: no known_hosts file to write the key of %s to", host)
	}
	file := n.KnownHosts[0]
	name := host
	if n.HashKnownHosts {
		name = knownhosts.HashHostname(host)
	}
	line := knownhosts.Line([]string{name}, key) + "\n"

	p.khMu.Lock()
	defer p.khMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("accept-new: %w", err)
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("accept-new: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := io.WriteString(f, line); err != nil {
		return fmt.Errorf("accept-new: %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("accept-new: %s: %w", file, err)
	}
	p.forgetHostDBs()
	p.notef("%s: accepted new host key %s for %s into %s", n.Name, keyString(key), host, tildify(file))
	p.log.Info("accepted new host key", "node", n.Name, "host", host, "key", keyString(key), "file", file)
	return nil
}
