package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/hactl/hactl/pkg/inventory"
)

// DefaultSocket is the hactl control socket on a node when neither flags,
// inventory nor the caller name one.
const DefaultSocket = "/run/hactl/hactl.sock"

// maxJumpDepth bounds ProxyJump chains, including jump hosts that have a
// ProxyJump of their own, so a loop in ssh_config ends with an error.
const maxJumpDepth = 8

// Node is everything needed to reach one node: the result of merging flags,
// inventory settings and ssh_config. Build it with a Resolver, or fill it in
// directly (tests, callers with their own configuration).
type Node struct {
	// Name is the node's name as hactl prints it (an inventory name or an
	// ssh_config alias). Errors start with it.
	Name string `json:"name"`
	// Host is the address or DNS name to connect to (ssh_config HostName).
	Host string `json:"host"`
	// Port is the SSH port (default 22).
	Port int `json:"port"`
	// User is the remote user.
	User string `json:"user"`
	// Identities are private key files to offer, in order.
	Identities []string `json:"identities,omitempty"`
	// IdentitiesOnly restricts the agent's keys to those matching
	// Identities (ssh_config IdentitiesOnly).
	IdentitiesOnly bool `json:"identities_only,omitempty"`
	// KnownHosts are the known_hosts files to check, in order. Missing files
	// count as empty. Accept-new mode appends to the first.
	KnownHosts []string `json:"known_hosts,omitempty"`
	// HashKnownHosts makes accept-new write hashed host names
	// (ssh_config HashKnownHosts).
	HashKnownHosts bool `json:"hash_known_hosts,omitempty"`
	// HostKeyAlias, when set, is the name looked up in known_hosts instead
	// of Host (ssh_config HostKeyAlias).
	HostKeyAlias string `json:"host_key_alias,omitempty"`
	// Socket is the path of the hactl control socket on the node.
	Socket string `json:"socket"`
	// ControlPort is the port of the daemon's control_ssh listener,
	// tried before sshd for socket calls: 0 means DefaultControlPort, -1
	// none (inventory control_port=none).
	ControlPort int `json:"control_port,omitempty"`
	// Jump is the host to tunnel through (ssh_config ProxyJump), or nil.
	Jump *Node `json:"jump,omitempty"`
	// SSHConfig is the ssh_config file the node was resolved with, if any.
	SSHConfig string `json:"ssh_config,omitempty"`
}

// Addr is the host and port to dial, as "host:port".
func (n Node) Addr() string {
	port := n.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(n.Host, strconv.Itoa(port))
}

// Destination is "user@host:port" with " via JUMP" for tunnelled nodes;
// it identifies one SSH connection.
func (n Node) Destination() string {
	d := n.User + "@" + n.Addr()
	if n.Jump != nil {
		d += " via " + n.Jump.Destination()
	}
	return d
}

// Resolver turns node names into Nodes. Precedence, highest first: Flags,
// the inventory node's settings (already merged with its cluster's by
// inventory.Cluster.Resolved), ssh_config, then OpenSSH's defaults.
//
// A Resolver caches parsed ssh_config files and is safe for concurrent use.
type Resolver struct {
	// Flags are the command-line settings (-l, -i, --ssh-config,
	// --known-hosts, --socket). Host is ignored: a flag cannot name the
	// address of every node.
	Flags inventory.Settings
	// Home is the user's home directory for ~ and the default files
	// (default: os.UserHomeDir).
	Home string
	// LocalUser is the remote user when nothing else names one (default:
	// the current user).
	LocalUser string
	// SystemConfig is read after the user's ssh_config, as OpenSSH does,
	// unless an ssh_config file was named explicitly (ssh -F semantics).
	// Default /etc/ssh/ssh_config; "none" reads no system file.
	SystemConfig string
	// GlobalKnownHosts are read after the user's known_hosts when no
	// known_hosts file is named explicitly. Default
	// /etc/ssh/ssh_known_hosts; "none" reads none.
	GlobalKnownHosts string

	mu    sync.Mutex
	files map[string]*sshConfigFile
}

// ResolveName resolves a bare node name (from --nodes), an ssh_config alias
// or a host name.
func (r *Resolver) ResolveName(name string) (Node, error) {
	return r.Resolve(inventory.Node{Name: name})
}

// Resolve merges an inventory node (pass it through Cluster.Resolved first
// to inherit the cluster's settings) with the flags and ssh_config.
func (r *Resolver) Resolve(in inventory.Node) (Node, error) {
	return r.resolve(in, r.Flags, 0)
}

func (r *Resolver) resolve(in inventory.Node, flags inventory.Settings, depth int) (Node, error) {
	if in.Name == "" {
		return Node{}, errors.New("node with an empty name")
	}
	home := r.home()
	set := mergeSettings(flags, in.Settings)
	cfg, err := r.config(set.SSHConfig, home)
	if err != nil {
		return Node{}, fmt.Errorf("%s: %w", in.Name, err)
	}
	alias := in.Name
	n := Node{Name: in.Name, SSHConfig: cfg.path()}

	n.Host = set.Host
	if n.Host == "" {
		n.Host = cfg.get(alias, "HostName")
	}
	if n.Host == "" {
		n.Host = alias
	} else {
		n.Host = expandTokens(n.Host, map[byte]string{'h': alias})
	}

	n.Port = set.Port
	if n.Port == 0 {
		if p := cfg.get(alias, "Port"); p != "" {
			if n.Port, err = strconv.Atoi(p); err != nil || n.Port < 1 || n.Port > 65535 {
				return Node{}, fmt.Errorf("%s: %s: Port %q: want 1-65535", in.Name, cfg.path(), p)
			}
		}
	}
	if n.Port == 0 {
		n.Port = 22
	}

	n.User = set.User
	if n.User == "" {
		n.User = cfg.get(alias, "User")
	}
	if n.User == "" {
		n.User = r.localUser()
	}

	tokens := map[byte]string{
		'h': n.Host, 'n': alias, 'p': strconv.Itoa(n.Port), 'r': n.User,
		'u': r.localUser(), 'd': home,
	}
	expand := func(s string) string { return expandHome(expandTokens(s, tokens), home) }

	if set.Identity != "" {
		n.Identities = []string{expandHome(set.Identity, home)}
	} else if ids := cfg.getAll(alias, "IdentityFile"); len(ids) > 0 {
		for _, id := range ids {
			if !strings.EqualFold(id, "none") {
				n.Identities = append(n.Identities, expand(id))
			}
		}
	} else {
		n.Identities = defaultIdentities(home)
	}
	n.IdentitiesOnly = isYes(cfg.get(alias, "IdentitiesOnly"))

	if set.KnownHosts != "" {
		n.KnownHosts = []string{expandHome(set.KnownHosts, home)}
	} else {
		user := strings.Fields(cfg.get(alias, "UserKnownHostsFile"))
		if len(user) == 0 {
			user = []string{"~/.ssh/known_hosts"}
		}
		global := strings.Fields(cfg.get(alias, "GlobalKnownHostsFile"))
		if len(global) == 0 && r.GlobalKnownHosts != "none" {
			global = []string{r.GlobalKnownHosts}
			if r.GlobalKnownHosts == "" {
				global = []string{"/etc/ssh/ssh_known_hosts"}
			}
		}
		for _, f := range append(user, global...) {
			if f != "none" {
				n.KnownHosts = append(n.KnownHosts, expand(f))
			}
		}
	}
	n.HashKnownHosts = isYes(cfg.get(alias, "HashKnownHosts"))
	n.HostKeyAlias = cfg.get(alias, "HostKeyAlias")

	n.Socket = set.Socket
	if n.Socket == "" {
		n.Socket = DefaultSocket
	}
	n.ControlPort = set.ControlPort

	if pj := cfg.get(alias, "ProxyJump"); pj != "" && !strings.EqualFold(pj, "none") {
		specs, err := parseProxyJump(pj)
		if err != nil {
			return Node{}, fmt.Errorf("%s: %s: %w", in.Name, cfg.path(), err)
		}
		// Jump hosts are read from the same ssh_config and use the same
		// key and known_hosts when those were named explicitly; the user
		// and socket of the target do not apply to them.
		inherit := inventory.Settings{SSHConfig: set.SSHConfig, Identity: set.Identity, KnownHosts: set.KnownHosts}
		if n.Jump, err = r.resolveJump(specs, inherit, depth+1); err != nil {
			return Node{}, fmt.Errorf("%s: ProxyJump %s: %w", in.Name, pj, err)
		}
	}
	return n, nil
}

// resolveJump resolves a ProxyJump list a,b,c: c is the last hop, reached
// through b, which is reached through a; a's own ProxyJump applies.
func (r *Resolver) resolveJump(specs []jumpSpec, inherit inventory.Settings, depth int) (*Node, error) {
	if depth > maxJumpDepth {
		return nil, fmt.Errorf("more than %d jump hosts (a ProxyJump loop?)", maxJumpDepth)
	}
	last := specs[len(specs)-1]
	in := inventory.Node{Name: last.host, Settings: inherit}
	in.User, in.Port = last.user, last.port
	n, err := r.resolve(in, inventory.Settings{}, depth)
	if err != nil {
		return nil, err
	}
	if len(specs) > 1 {
		if n.Jump, err = r.resolveJump(specs[:len(specs)-1], inherit, depth+1); err != nil {
			return nil, err
		}
	}
	return &n, nil
}

// mergeSettings returns hi with empty fields filled from lo.
func mergeSettings(hi, lo inventory.Settings) inventory.Settings {
	out := hi
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	out.Host = lo.Host // flags never carry a host
	fill(&out.User, lo.User)
	fill(&out.Socket, lo.Socket)
	fill(&out.Identity, lo.Identity)
	fill(&out.SSHConfig, lo.SSHConfig)
	fill(&out.KnownHosts, lo.KnownHosts)
	if out.Port == 0 {
		out.Port = lo.Port
	}
	if out.ControlPort == 0 {
		out.ControlPort = lo.ControlPort
	}
	return out
}

func (r *Resolver) home() string {
	if r.Home != "" {
		return r.Home
	}
	h, _ := os.UserHomeDir()
	return h
}

func (r *Resolver) localUser() string {
	if r.LocalUser != "" {
		return r.LocalUser
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// defaultIdentities are OpenSSH's default key files that exist.
func defaultIdentities(home string) []string {
	var out []string
	for _, f := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", f)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func isYes(s string) bool { return strings.EqualFold(s, "yes") || strings.EqualFold(s, "true") }

// expandHome replaces a leading ~/ with home.
func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") && home != "" {
		return filepath.Join(home, p[2:])
	}
	return p
}

// expandTokens expands ssh_config's %-tokens that hactl knows (%h %n %p %r
// %u %d %%); others are left as they are.
func expandTokens(s string, tokens map[byte]string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
		} else if v, ok := tokens[s[i]]; ok {
			b.WriteString(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
