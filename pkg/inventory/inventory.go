// Package inventory reads hactl's inventory file: named clusters of nodes,
// with per-cluster and per-node SSH and control-socket settings. The format
// is documented in docs/inventory.md.
package inventory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Settings are the per-cluster or per-node overrides. Empty fields inherit:
// node from cluster, cluster from flags and ssh_config.
type Settings struct {
	Host       string `json:"host,omitempty"`
	User       string `json:"user,omitempty"`
	Port       int    `json:"port,omitempty"`
	Socket     string `json:"socket,omitempty"`
	Identity   string `json:"identity,omitempty"`
	SSHConfig  string `json:"ssh_config,omitempty"`
	KnownHosts string `json:"known_hosts,omitempty"`
	// ControlPort is the hactl daemon's control_ssh port (0: the
	// default, 922; -1: control_port=none, socket calls go through sshd).
	ControlPort int `json:"control_port,omitempty"`
}

// Node is one member of a cluster. Name may be an ssh_config alias.
type Node struct {
	Name string `json:"name"`
	Settings
}

// Cluster is a named set of nodes.
type Cluster struct {
	Name    string   `json:"name"`
	Default bool     `json:"default,omitempty"`
	Nodes   []Node   `json:"nodes"`
	Common  Settings `json:"settings"`
}

// Inventory is a parsed inventory file.
type Inventory struct {
	File     string     `json:"file"`
	Clusters []*Cluster `json:"clusters"`
}

// ErrNoInventory means no inventory file was named or found.
var ErrNoInventory = errors.New("no inventory: name nodes with --nodes or HACTL_NODES, or write ~/.config/hactl/inventory (see docs/inventory.md)")

// DefaultPaths are searched in order when no file is named.
func DefaultPaths(home string) []string {
	var p []string
	if home != "" {
		p = append(p, filepath.Join(home, ".config", "hactl", "inventory"))
	}
	return append(p, "/etc/hactl/inventory")
}

// Find returns the named file, or the first of DefaultPaths that exists.
func Find(named, home string) (string, error) {
	if named != "" {
		return named, nil
	}
	for _, p := range DefaultPaths(home) {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNoInventory
}

// Load reads and parses an inventory file.
func Load(path string) (*Inventory, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return Parse(path, bytes.NewReader(b))
}

// Parse reads an inventory from r; name is used in error messages.
func Parse(name string, r io.Reader) (*Inventory, error) {
	inv := &Inventory{File: name}
	var cur *Cluster
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(stripComment(sc.Text()))
		if len(fields) == 0 {
			continue
		}
		pos := fmt.Sprintf("%s:%d", name, line)
		if fields[0] == "cluster" {
			c, err := parseCluster(pos, fields[1:])
			if err != nil {
				return nil, err
			}
			if inv.Cluster(c.Name) != nil {
				return nil, fmt.Errorf("%s: cluster %q defined twice", pos, c.Name)
			}
			inv.Clusters = append(inv.Clusters, c)
			cur = c
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s: node %q before any \"cluster NAME\" line", pos, fields[0])
		}
		n := Node{Name: fields[0]}
		if err := parseSettings(pos, &n.Settings, fields[1:], false); err != nil {
			return nil, err
		}
		for _, o := range cur.Nodes {
			if o.Name == n.Name {
				return nil, fmt.Errorf("%s: node %q listed twice in cluster %q", pos, n.Name, cur.Name)
			}
		}
		cur.Nodes = append(cur.Nodes, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defaults := 0
	for _, c := range inv.Clusters {
		if c.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return nil, fmt.Errorf("%s: more than one cluster is marked default", name)
	}
	return inv, nil
}

func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

func parseCluster(pos string, args []string) (*Cluster, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: \"cluster\" needs a name", pos)
	}
	c := &Cluster{Name: args[0]}
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "default" {
		c.Default = true
		rest = rest[1:]
	}
	return c, parseSettings(pos, &c.Common, rest, true)
}

func parseSettings(pos string, s *Settings, kvs []string, cluster bool) error {
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return fmt.Errorf("%s: %q: want key=value", pos, kv)
		}
		switch k {
		case "host":
			if cluster {
				return fmt.Errorf("%s: host= belongs on a node line", pos)
			}
			s.Host = v
		case "user":
			s.User = v
		case "port":
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return fmt.Errorf("%s: port %q: want 1-65535", pos, v)
			}
			s.Port = p
		case "socket":
			s.Socket = v
		case "identity":
			s.Identity = v
		case "ssh_config":
			s.SSHConfig = v
		case "known_hosts":
			s.KnownHosts = v
		case "control_port":
			if v == "none" {
				s.ControlPort = -1
				break
			}
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return fmt.Errorf("%s: control_port %q: want 1-65535 or none", pos, v)
			}
			s.ControlPort = p
		default:
			return fmt.Errorf("%s: unknown key %q (want host, user, port, socket, identity, ssh_config, known_hosts, control_port)", pos, k)
		}
	}
	return nil
}

// Cluster returns the cluster called name, or nil.
func (inv *Inventory) Cluster(name string) *Cluster {
	for _, c := range inv.Clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Select picks a cluster: the named one; else the only one; else the one
// marked default.
func (inv *Inventory) Select(name string) (*Cluster, error) {
	if name != "" {
		if c := inv.Cluster(name); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("%s: no cluster %q (have: %s)", inv.File, name, strings.Join(inv.Names(), ", "))
	}
	switch len(inv.Clusters) {
	case 0:
		return nil, fmt.Errorf("%s: no clusters defined", inv.File)
	case 1:
		return inv.Clusters[0], nil
	}
	for _, c := range inv.Clusters {
		if c.Default {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%s: several clusters and none marked default: pick one with --cluster (have: %s)", inv.File, strings.Join(inv.Names(), ", "))
}

// Names lists the cluster names, sorted.
func (inv *Inventory) Names() []string {
	var n []string
	for _, c := range inv.Clusters {
		n = append(n, c.Name)
	}
	sort.Strings(n)
	return n
}

// NodeNames lists the cluster's node names in file order.
func (c *Cluster) NodeNames() []string {
	var n []string
	for _, node := range c.Nodes {
		n = append(n, node.Name)
	}
	return n
}

// Resolved returns the node's settings with the cluster's filled in where
// the node has none.
func (c *Cluster) Resolved(n Node) Node {
	out := n
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&out.User, c.Common.User)
	fill(&out.Socket, c.Common.Socket)
	fill(&out.Identity, c.Common.Identity)
	fill(&out.SSHConfig, c.Common.SSHConfig)
	fill(&out.KnownHosts, c.Common.KnownHosts)
	if out.Port == 0 {
		out.Port = c.Common.Port
	}
	if out.ControlPort == 0 {
		out.ControlPort = c.Common.ControlPort
	}
	return out
}

// Write renders the inventory in the file format, so tools (hactl lab up)
// can produce one that Parse reads back.
func (inv *Inventory) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# hactl inventory (format: docs/inventory.md)\n")
	for _, c := range inv.Clusters {
		fmt.Fprintf(bw, "cluster %s", c.Name)
		if c.Default {
			fmt.Fprint(bw, " default")
		}
		fmt.Fprintf(bw, "%s\n", settingsString(c.Common))
		for _, n := range c.Nodes {
			fmt.Fprintf(bw, "  %s%s\n", n.Name, settingsString(n.Settings))
		}
	}
	return bw.Flush()
}

func settingsString(s Settings) string {
	var b strings.Builder
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	add("host", s.Host)
	add("user", s.User)
	if s.Port != 0 {
		add("port", strconv.Itoa(s.Port))
	}
	add("socket", s.Socket)
	add("identity", s.Identity)
	add("ssh_config", s.SSHConfig)
	add("known_hosts", s.KnownHosts)
	switch {
	case s.ControlPort < 0:
		add("control_port", "none")
	case s.ControlPort > 0:
		add("control_port", strconv.Itoa(s.ControlPort))
	}
	return b.String()
}
