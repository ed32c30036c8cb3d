package remote

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// sshConfigFile is the ssh_config in force for a lookup: the user's (or the
// named) file, then the system file. Either may be absent.
type sshConfigFile struct {
	user, system         *ssh_config.Config
	userPath, systemPath string
}

func (c *sshConfigFile) path() string {
	if c.user != nil {
		return c.userPath
	}
	return ""
}

// get returns the first value of key for alias, as OpenSSH does: the first
// matching Host block that sets it wins, user file before system file.
func (c *sshConfigFile) get(alias, key string) string {
	for _, f := range []*ssh_config.Config{c.user, c.system} {
		if f == nil {
			continue
		}
		if v, err := f.Get(alias, key); err == nil && v != "" {
			return v
		}
	}
	return ""
}

// getAll returns every value of key for alias (IdentityFile may repeat).
func (c *sshConfigFile) getAll(alias, key string) []string {
	var out []string
	for _, f := range []*ssh_config.Config{c.user, c.system} {
		if f == nil {
			continue
		}
		if v, err := f.GetAll(alias, key); err == nil {
			out = append(out, v...)
		}
	}
	return out
}

// config returns the ssh_config for a node: named (ssh -F: only that file,
// which must exist), else ~/.ssh/config and the system file, each optional.
func (r *Resolver) config(named, home string) (*sshConfigFile, error) {
	key := named + "\x00" + home
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.files[key]; ok {
		return c, nil
	}
	c := &sshConfigFile{}
	var err error
	if named != "" {
		c.userPath = expandHome(named, home)
		if c.user, err = parseSSHConfig(c.userPath, false); err != nil {
			return nil, err
		}
	} else {
		c.userPath = filepath.Join(home, ".ssh", "config")
		if c.user, err = parseSSHConfig(c.userPath, true); err != nil {
			return nil, err
		}
		c.systemPath = r.SystemConfig
		if c.systemPath == "" {
			c.systemPath = "/etc/ssh/ssh_config"
		}
		if c.systemPath != "none" {
			if c.system, err = parseSSHConfig(c.systemPath, true); err != nil {
				return nil, err
			}
		}
	}
	if r.files == nil {
		r.files = map[string]*sshConfigFile{}
	}
	r.files[key] = c
	return c, nil
}

// parseSSHConfig reads one ssh_config file; a missing optional file gives
// nil and no error.
func parseSSHConfig(path string, optional bool) (*ssh_config.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if optional && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	defer f.Close()
	c, err := ssh_config.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("ssh_config %s: %w", path, err)
	}
	return c, nil
}

// jumpSpec is one hop of a ProxyJump list: [user@]host[:port].
type jumpSpec struct {
	user, host string
	port       int
}

// parseProxyJump parses "a,user@b:2222,ssh://c" into hops.
func parseProxyJump(s string) ([]jumpSpec, error) {
	var out []jumpSpec
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "ssh://")
		if part == "" {
			return nil, fmt.Errorf("ProxyJump %q: empty hop", s)
		}
		var j jumpSpec
		if at := strings.LastIndexByte(part, '@'); at >= 0 {
			j.user, part = part[:at], part[at+1:]
		}
		host, port := part, ""
		switch {
		case strings.HasPrefix(part, "["):
			end := strings.IndexByte(part, ']')
			if end < 0 {
				return nil, fmt.Errorf("ProxyJump %q: unclosed [", s)
			}
			host = part[1:end]
			port = strings.TrimPrefix(part[end+1:], ":")
		case strings.Count(part, ":") == 1:
			host, port, _ = strings.Cut(part, ":")
		}
		if port != "" {
			p, err := strconv.Atoi(port)
			if err != nil || p < 1 || p > 65535 {
				return nil, fmt.Errorf("ProxyJump %q: port %q: want 1-65535", s, port)
			}
			j.port = p
		}
		if host == "" {
			return nil, fmt.Errorf("ProxyJump %q: empty host", s)
		}
		j.host = host
		out = append(out, j)
	}
	return out, nil
}
