package config

import (
	"encoding/json"
	"time"
)

// EtcdGuard is an etcd_guard block, hactl's own: the etcd cluster whose
// lease an instance must hold, under a key per virtual router, before it
// adds its VIPs as master (docs/guard.md). keepalived does not know it.
type EtcdGuard struct {
	Name string `json:"name"`
	Pos  Pos    `json:"pos"`
	// Endpoints are the cluster's client URLs (all http or all https).
	Endpoints []string `json:"endpoints"`
	// TTL is the etcd lease's time to live, whole seconds.
	TTL time.Duration `json:"-"`
	// KeyPrefix starts every key of the guard (DefaultGuardKeyPrefix).
	KeyPrefix string `json:"key_prefix"`
	// CAFile, CertFile and KeyFile are the TLS files (https endpoints):
	// the CA that signs the servers, and the client's certificate and key.
	CAFile   string `json:"ca_file,omitempty"`
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// Username and Password are etcd's authentication; the password is
	// never shown (config show says whether one is set).
	Username    string `json:"username,omitempty"`
	Password    string `json:"-"`
	PasswordPos Pos    `json:"-"`
	// TLSPos is where the first TLS file was named (for the host checks).
	TLSPos Pos `json:"-"`
}

// Defaults and bounds of etcd_guard.
const (
	DefaultGuardTTL       = 2 * time.Second
	MinGuardTTL           = 1 * time.Second
	MaxGuardTTL           = 600 * time.Second
	DefaultGuardKeyPrefix = "/hactl/"
)

// MarshalJSON encodes the ttl in milliseconds and hides the password.
func (g EtcdGuard) MarshalJSON() ([]byte, error) {
	type plain EtcdGuard
	return json.Marshal(struct {
		plain
		TTLMS       float64 `json:"ttl_ms"`
		PasswordSet bool    `json:"password_set"`
	}{plain(g), ms(g.TTL), g.Password != ""})
}

// GuardOf returns the etcd_guard named name, or nil.
func (c *Config) GuardOf(name string) *EtcdGuard {
	for _, g := range c.EtcdGuards {
		if g.Name == name {
			return g
		}
	}
	return nil
}
