package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/hactl/hactl/pkg/config"
)

// renderGuards prints the etcd_guard blocks after config show's instance
// table, with the instances each guards; nothing when there are none. The
// password is never shown, only whether one is set.
func renderGuards(w io.Writer, cfg *config.Config) error {
	if len(cfg.EtcdGuards) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	tb := newTable(w, "GUARD", "ENDPOINTS", "TTL", "KEY_PREFIX", "TLS", "AUTH", "INSTANCES")
	for _, g := range cfg.EtcdGuards {
		var users []string
		for _, in := range cfg.Instances {
			if in.Guard == g.Name {
				users = append(users, in.Name)
			}
		}
		tls := "no"
		if strings.HasPrefix(g.Endpoints[0], "https://") {
			tls = "yes"
			if g.CertFile != "" {
				tls = "yes, client cert"
			}
		}
		auth := "no"
		if g.Username != "" {
			auth = "user " + g.Username
		}
		if len(users) == 0 {
			users = []string{"-"}
		}
		if err := tb.Append(g.Name, strings.Join(g.Endpoints, " "), g.TTL.String(), g.KeyPrefix, tls, auth, strings.Join(users, " ")); err != nil {
			return err
		}
	}
	return tb.Render()
}
