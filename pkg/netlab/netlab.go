package netlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// Prefix starts every namespace name a lab creates.
const Prefix = "hactl-"

// DefaultRoot is where labs keep their files: DefaultRoot/NAME.
const DefaultRoot = "/run/hactl-lab"

// MaxNodes bounds a lab's size: node addresses are .11 to .210 of the /24.
const MaxNodes = 200

// ErrUnsupported is returned on systems without network namespaces.
var ErrUnsupported = errors.New("network-namespace labs are not supported on this OS (Linux only)")

var (
	defaultSubnet4 = netip.MustParsePrefix("10.77.0.0/24")
	defaultSubnet6 = netip.MustParsePrefix("fd77::/64")
	validName      = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)
)

// Config describes a lab to build.
type Config struct {
	// Name identifies the lab: 1-12 of [a-z0-9], starting with a letter.
	Name string
	// Nodes is the number of node namespaces (1..MaxNodes).
	Nodes int
	// Root is the parent of the lab's directory (default DefaultRoot).
	Root string
	// SSH starts an OpenSSH sshd in every node and writes the client files.
	SSH bool
	// SSHDExtra adds lines to the sshd_config of the nodes it names
	// ("node3": "ForceCommand yes"), for tests of misbehaving nodes.
	SSHDExtra map[string]string
	// CheapShell starts every node's sshd in a mount namespace of its own
	// in which the login user's ~/.bashrc is empty, so a remote command
	// pays for no start-up script (the benchmarks: a node like a plain
	// server, not like this machine's root with its pyenv). The host's
	// file is not touched.
	CheapShell bool
	// Persistent labs outlive the process that built them (hactl lab up);
	// others are stale once their owner has exited.
	Persistent bool
	// Subnet4 and Subnet6 default to 10.77.0.0/24 and fd77::/64. They are
	// private to the lab's namespaces.
	Subnet4, Subnet6 netip.Prefix
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if !validName.MatchString(c.Name) {
		return fmt.Errorf("lab name %q: want 1-12 lowercase letters and digits, starting with a letter", c.Name)
	}
	if c.Nodes < 1 || c.Nodes > MaxNodes {
		return fmt.Errorf("lab %s: %d nodes: want 1 to %d", c.Name, c.Nodes, MaxNodes)
	}
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if !c.Subnet4.IsValid() {
		c.Subnet4 = defaultSubnet4
	}
	if !c.Subnet6.IsValid() {
		c.Subnet6 = defaultSubnet6
	}
	if c.Subnet4.Bits() > 24 || !c.Subnet4.Addr().Is4() {
		return fmt.Errorf("lab %s: Subnet4 %s: want an IPv4 /24 or larger", c.Name, c.Subnet4)
	}
	if c.Subnet6.Bits() > 64 || !c.Subnet6.Addr().Is6() {
		return fmt.Errorf("lab %s: Subnet6 %s: want an IPv6 /64 or larger", c.Name, c.Subnet6)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Host is one namespace of the lab with a port on the bridge: a node or the
// operator.
type Host struct {
	Name  string     `json:"name"`
	Netns string     `json:"netns"`
	Addr4 netip.Addr `json:"addr4"`
	Addr6 netip.Addr `json:"addr6"`
	// Dir is the host's own directory for sockets, state and logs.
	Dir string `json:"dir"`
	// SSHDPID is the sshd started for the host, 0 if none.
	SSHDPID int `json:"sshd_pid,omitempty"`
}

// Lab is a built lab. It is saved as lab.json in Dir, so other processes
// (hactl lab status, exec, down) can load it.
type Lab struct {
	Name     string       `json:"name"`
	Dir      string       `json:"dir"`
	Subnet4  netip.Prefix `json:"subnet4"`
	Subnet6  netip.Prefix `json:"subnet6"`
	Bridge   string       `json:"bridge_netns"`
	Operator *Host        `json:"operator"`
	Nodes    []*Host      `json:"nodes"`
	// OwnerPID is the process that must stay alive for the lab to be in
	// use; 0 for persistent labs.
	OwnerPID int `json:"owner_pid"`
	// Client-side SSH files, written when Config.SSH is set.
	SSHConfig  string `json:"ssh_config,omitempty"`
	KnownHosts string `json:"known_hosts,omitempty"`
	Identity   string `json:"identity,omitempty"`
	Inventory  string `json:"inventory,omitempty"`

	log *slog.Logger
}

// NetnsName returns the namespace name of a lab's host ("br", "op", "node1").
func NetnsName(lab, host string) string { return Prefix + lab + "-" + host }

// NodeName returns the name of node i (1-based).
func NodeName(i int) string { return "node" + strconv.Itoa(i) }

// plan lays out the lab's hosts and addresses without touching the system.
func plan(c Config) *Lab {
	dir := filepath.Join(c.Root, c.Name)
	l := &Lab{Name: c.Name, Dir: dir, Subnet4: c.Subnet4.Masked(), Subnet6: c.Subnet6.Masked(), Bridge: NetnsName(c.Name, "br"), log: c.Logger}
	host := func(name string, n int) *Host {
		return &Host{Name: name, Netns: NetnsName(c.Name, name), Addr4: nthAddr(l.Subnet4.Addr(), n), Addr6: nthAddr(l.Subnet6.Addr(), decimalHex(n)), Dir: filepath.Join(dir, name)}
	}
	l.Operator = host("op", 250)
	for i := 1; i <= c.Nodes; i++ {
		l.Nodes = append(l.Nodes, host(NodeName(i), 10+i))
	}
	if !c.Persistent {
		l.OwnerPID = os.Getpid()
	}
	return l
}

// decimalHex makes node 11's IPv6 address end in ::11 as its IPv4 one ends
// in .11, so the two are easy to pair by eye.
func decimalHex(n int) int {
	v, _ := strconv.ParseInt(strconv.Itoa(n), 16, 32)
	return int(v)
}

func nthAddr(base netip.Addr, n int) netip.Addr {
	b := base.AsSlice()
	for i := len(b) - 1; i >= 0 && n > 0; i-- {
		sum := int(b[i]) + n
		b[i] = byte(sum)
		n = sum >> 8
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Hosts returns the operator followed by the nodes.
func (l *Lab) Hosts() []*Host { return append([]*Host{l.Operator}, l.Nodes...) }

// Host returns the host called name ("op" or "operator" for the operator).
func (l *Lab) Host(name string) (*Host, error) {
	if name == "operator" {
		name = "op"
	}
	for _, h := range l.Hosts() {
		if h.Name == name {
			return h, nil
		}
	}
	return nil, fmt.Errorf("lab %s: no host %q (have op and node1..node%d)", l.Name, name, len(l.Nodes))
}

// Node returns node i (1-based).
func (l *Lab) Node(i int) *Host { return l.Nodes[i-1] }

func (l *Lab) save() error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(l.Dir, "lab.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(l.Dir, "lab.json"))
}

// Load reads the lab called name under root (DefaultRoot if empty).
func Load(root, name string) (*Lab, error) {
	if root == "" {
		root = DefaultRoot
	}
	b, err := os.ReadFile(filepath.Join(root, name, "lab.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no lab %q under %s (start one with: hactl lab up --name %s)", name, root, name)
		}
		return nil, err
	}
	l := &Lab{log: slog.New(slog.DiscardHandler)}
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(root, name, "lab.json"), err)
	}
	return l, nil
}

// SetLogger sets where a loaded lab reports progress.
func (l *Lab) SetLogger(log *slog.Logger) {
	if log != nil {
		l.log = log
	}
}
