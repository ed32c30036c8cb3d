package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/hactl/hactl/pkg/config"
)

// DefaultConfigPaths are tried in order when no config file is named.
var DefaultConfigPaths = []string{"/etc/hactl/hactl.conf", "/etc/keepalived/keepalived.conf"}

// ErrConfig marks a configuration that cannot run; the message lists every
// error as file:line:col.
var ErrConfig = errors.New("invalid configuration")

// FindConfig returns file, or the first of DefaultConfigPaths that exists.
func FindConfig(file string) (string, error) {
	if file != "" {
		return file, nil
	}
	for _, p := range DefaultConfigPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no configuration: none of %s exists (name one with -f)", strings.Join(DefaultConfigPaths, ", "))
}

// loadConfig reads and checks a config, logging its warnings; it fails
// with every error listed. ctx stops the reading (SIGTERM during a reload
// or at start).
func loadConfig(ctx context.Context, path string, log *slog.Logger) (*config.Config, config.Diagnostics, error) {
	cfg, diags, err := config.Load(path, config.LoadOptions{Context: ctx})
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, config.Check(cfg, config.OSHost{})...)
	for _, d := range diags.Warnings() {
		log.Warn("config", "diagnostic", d.String())
	}
	if diags.HasErrors() {
		var msgs []string
		for _, d := range diags.Errors() {
			msgs = append(msgs, d.String())
		}
		return nil, diags, fmt.Errorf("%w:\n%s", ErrConfig, strings.Join(msgs, "\n"))
	}
	if len(cfg.Instances) == 0 {
		return nil, diags, fmt.Errorf("%w: %s has no vrrp_instance", ErrConfig, path)
	}
	return cfg, diags, nil
}
