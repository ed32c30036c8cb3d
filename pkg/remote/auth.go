package remote

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// agentSigners returns the agent's keys; nil without an agent. The agent
// connection is opened once per Pool. It is a local unix socket, so it is
// dialed directly, never through Config.Dialer.
func (p *Pool) agentSigners() ([]ssh.Signer, error) {
	p.agentOnce.Do(func() {
		sock := p.cfg.AgentSocket
		if sock == "" {
			sock = os.Getenv("SSH_AUTH_SOCK")
		}
		if sock == "" || sock == "none" {
			return
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			p.agentErr = fmt.Errorf("ssh-agent at %s: %w", sock, err)
			return
		}
		p.agentConn = c
		p.agent = agent.NewClient(c)
	})
	if p.agentErr != nil {
		return nil, p.agentErr
	}
	if p.agent == nil {
		return nil, nil
	}
	s, err := p.agent.Signers()
	if err != nil {
		return nil, fmt.Errorf("ssh-agent: %w", err)
	}
	return s, nil
}

// signers builds the keys to offer to n, in OpenSSH's spirit: the identity
// files first (through the agent when the file is passphrase-protected and
// the agent holds it), then the agent's other keys unless IdentitiesOnly.
// tried describes them for an authentication error.
func (p *Pool) signers(n Node) (out []ssh.Signer, tried []string, err error) {
	agentKeys, agentErr := p.agentSigners()
	if agentErr != nil {
		p.log.Warn("ssh-agent unavailable", "err", agentErr)
	}
	used := map[string]bool{}
	for _, file := range n.Identities {
		s, err := p.identity(file, agentKeys)
		if err != nil {
			return nil, nil, err
		}
		if s == nil {
			tried = append(tried, tildify(file)+" (passphrase-protected and not in ssh-agent: run ssh-add "+tildify(file)+")")
			continue
		}
		k := string(s.PublicKey().Marshal())
		if !used[k] {
			used[k] = true
			out = append(out, s)
			tried = append(tried, tildify(file))
		}
	}
	if !n.IdentitiesOnly {
		count := 0
		for _, s := range agentKeys {
			k := string(s.PublicKey().Marshal())
			if !used[k] {
				used[k] = true
				out = append(out, s)
				count++
			}
		}
		if count > 0 {
			tried = append(tried, fmt.Sprintf("%d key(s) from ssh-agent", count))
		}
	}
	if len(out) == 0 {
		why := "no ssh-agent (SSH_AUTH_SOCK is unset) and no identity file"
		if agentErr != nil {
			why = agentErr.Error() + ", and no identity file"
		} else if p.agent != nil {
			why = "ssh-agent holds no keys and there is no identity file"
		}
		if len(tried) > 0 {
			why += " usable: " + strings.Join(tried, ", ")
		}
		return nil, nil, fmt.Errorf("%w: %s (name a key with -i, or add one with ssh-add)", ErrNoKeys, why)
	}
	return out, tried, nil
}

// identity loads one private key file. A passphrase-protected file is
// served by the agent's copy of the key when there is one, else skipped
// (nil, nil): hactl never prompts.
func (p *Pool) identity(file string, agentKeys []ssh.Signer) (ssh.Signer, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	if err == nil {
		return s, nil
	}
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return nil, fmt.Errorf("identity file %s: %w", file, err)
	}
	pub := missing.PublicKey
	if pub == nil {
		if b, err := os.ReadFile(file + ".pub"); err == nil {
			pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
		}
	}
	if pub != nil {
		for _, a := range agentKeys {
			if bytes.Equal(a.PublicKey().Marshal(), pub.Marshal()) {
				return a, nil
			}
		}
	}
	return nil, nil
}
