package config

import (
	"net"
	"net/url"
	"strings"
	"time"
)

// etcdGuard reads an etcd_guard block. Every keyword in it is hactl's own,
// so a bad value is an error (keepalived has no behaviour to follow).
func (b *builder) etcdGuard(s *Statement) {
	name, ok := b.sectionName(s)
	if !ok || !b.needBlock(s) {
		return
	}
	if o, dup := b.guards[name]; dup {
		b.diag.errorf(s.Args[0].Pos, "etcd_guard %s is already defined at %s", name, o.Pos)
		return
	}
	g := &EtcdGuard{Name: name, Pos: s.Pos, TTL: DefaultGuardTTL, KeyPrefix: DefaultGuardKeyPrefix}
	var scheme string
	file := func(dst *string) handler {
		return func(c *Statement) {
			if !b.nargs(c, 1, 1) {
				return
			}
			*dst = c.Args[0].Text
			if !g.TLSPos.IsValid() {
				g.TLSPos = c.Pos
			}
		}
	}
	h := map[string]handler{
		"endpoints": func(c *Statement) {
			if !b.nargs(c, 1, 64) {
				return
			}
			for _, a := range c.Args {
				sch, err := guardEndpoint(a.Text)
				if err != nil {
					b.diag.errorf(a.Pos, "etcd_guard %s: endpoint %q: %v", name, a.Text, err)
					continue
				}
				if scheme != "" && sch != scheme {
					b.diag.errorf(a.Pos, "etcd_guard %s: endpoint %s: every endpoint must use the same scheme (%s before)", name, a.Text, scheme)
					continue
				}
				scheme = sch
				g.Endpoints = append(g.Endpoints, a.Text)
			}
		},
		"ttl": func(c *Statement) {
			var d time.Duration
			b.secondsInt(c, &d, uint64(MinGuardTTL/time.Second), uint64(MaxGuardTTL/time.Second))
			if d > 0 {
				g.TTL = d
			}
		},
		"key_prefix": func(c *Statement) {
			if !b.nargs(c, 1, 1) {
				return
			}
			p := c.Args[0].Text
			if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || strings.ContainsAny(p, " \t\x00") {
				b.diag.errorf(c.Args[0].Pos, "etcd_guard %s: key_prefix %q: want a path that starts and ends with '/' (default %s)", name, p, DefaultGuardKeyPrefix)
				return
			}
			g.KeyPrefix = p
		},
		"ca_file":   file(&g.CAFile),
		"cert_file": file(&g.CertFile),
		"key_file":  file(&g.KeyFile),
		"username": func(c *Statement) {
			if b.nargs(c, 1, 1) {
				g.Username = c.Args[0].Text
			}
		},
		"password": func(c *Statement) {
			if b.nargs(c, 1, 1) {
				g.Password, g.PasswordPos = c.Args[0].Text, c.Pos
			}
		},
	}
	b.walk(s, blockSpec{name: "etcd_guard " + name, ctx: CtxEtcdGuard, handlers: h})
	b.guards[name] = g
	b.cfg.EtcdGuards = append(b.cfg.EtcdGuards, g)
	switch {
	case len(g.Endpoints) == 0:
		b.diag.errorf(s.Pos, "etcd_guard %s has no endpoints: want endpoints http://HOST:PORT ...", name)
	case scheme == schemeHTTP && g.TLSPos.IsValid():
		b.diag.errorf(g.TLSPos, "etcd_guard %s: TLS files are given but the endpoints use http: use https endpoints", name)
	}
	if (g.CertFile == "") != (g.KeyFile == "") {
		b.diag.errorf(g.TLSPos, "etcd_guard %s: cert_file and key_file go together (the client's certificate and its key)", name)
	}
	if (g.Username == "") != (g.Password == "") {
		b.diag.errorf(s.Pos, "etcd_guard %s: username and password go together", name)
	}
}

// guardEndpoint checks an etcd client URL and returns its scheme.
func guardEndpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != schemeHTTP && u.Scheme != schemeHTTPS {
		return "", errorString("want http://HOST:PORT or https://HOST:PORT")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errorString("want only a scheme, a host and a port")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return "", errorString("want a host and a port (etcd's client port is usually 2379)")
	}
	return u.Scheme, nil
}

// The endpoint schemes.
const (
	schemeHTTP  = "http"
	schemeHTTPS = "https"
)

type errorString string

func (e errorString) Error() string { return string(e) }

// guardRef reads `guard NAME` in a vrrp_instance or vrrp_sync_group; the
// name is checked once the whole file is read (resolveGuards), so the
// etcd_guard block may come before or after.
func (b *builder) guardRef(s *Statement, dst *string, pos *Pos) {
	if !b.nargs(s, 1, 1) {
		return
	}
	if *dst != "" {
		b.diag.errorf(s.Pos, "guard is already set (to %s at %s)", *dst, *pos)
		return
	}
	*dst, *pos = s.Args[0].Text, s.Pos
}

// resolveGuards checks the guard references, gives a sync group's guard to
// its members, and refuses two guarded instances that would share a key
// (one key per guard, family and VRID).
func (b *builder) resolveGuards() {
	byName := map[string]*Instance{}
	for _, in := range b.cfg.Instances {
		byName[in.Name] = in
	}
	for _, sg := range b.cfg.SyncGroups {
		if sg.Guard == "" {
			continue
		}
		if b.guards[sg.Guard] == nil {
			b.diag.errorf(sg.GuardPos, "vrrp_sync_group %s: guard %s: no etcd_guard of that name is defined", sg.Name, sg.Guard)
			continue
		}
		for _, m := range sg.Instances {
			in := byName[m]
			switch {
			case in == nil:
			case in.Guard == "":
				in.Guard, in.GuardPos = sg.Guard, sg.GuardPos
			case in.Guard != sg.Guard:
				b.diag.errorf(in.GuardPos, "(%s) guard %s, but its sync group %s has guard %s: members share their group's guard", in.Name, in.Guard, sg.Name, sg.Guard)
			}
		}
	}
	type key struct {
		guard  string
		family Family
		vrid   int
	}
	seen := map[key]*Instance{}
	for _, in := range b.cfg.Instances {
		if in.Guard == "" {
			continue
		}
		if b.guards[in.Guard] == nil {
			b.diag.errorf(in.GuardPos, "(%s) guard %s: no etcd_guard of that name is defined", in.Name, in.Guard)
			continue
		}
		k := key{in.Guard, in.Family, in.VRID}
		if o := seen[k]; o != nil {
			b.diag.errorf(in.GuardPos, "(%s) guard %s: instance %s (%s) has the same family and virtual_router_id, and the guard's key is per family and VRID: give one of them another guard or key_prefix", in.Name, in.Guard, o.Name, o.Pos)
			continue
		}
		seen[k] = in
	}
}
