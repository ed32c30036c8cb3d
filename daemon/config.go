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

// loadConfig reads and checks a config, logging each diagnostic once. It
// fails with every error listed. What keepalived corrects and runs with
// (an unknown keyword skipped, a default kept, BACKUP for an unknown
// state, a reference to a vrrp_script defined further down dropped) is
// applied the same way and logged; with strict it fails too. ctx stops
// the reading (SIGTERM during a reload or at start).
func loadConfig(ctx context.Context, path string, log *slog.Logger, strict bool) (*config.Config, config.Diagnostics, error) {
	cfg, diags, err := config.Load(path, config.LoadOptions{Context: ctx})
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, config.Check(cfg, config.OSHost{})...).SortByFiles(cfg.Files)
	for _, d := range diags {
		switch d.Severity {
		case config.SeverityWarning:
			log.Warn("config", "diagnostic", d.String())
		case config.SeverityCorrected:
			if !strict {
				log.Warn("config corrected as keepalived does", "diagnostic", d.String())
			}
		}
	}
	refuse := diags.Errors()
	if strict {
		refuse = append(refuse, diags.Corrected()...).SortByFiles(cfg.Files)
	}
	if len(refuse) > 0 {
		var msgs []string
		for _, d := range refuse {
			msgs = append(msgs, d.String())
		}
		why := ""
		if strict && diags.HasCorrected() {
			why = " (--strict: keepalived would run it with the corrections marked \"corrected\")"
		}
		return nil, diags, fmt.Errorf("%w%s:\n%s", ErrConfig, why, strings.Join(msgs, "\n"))
	}
	if len(cfg.Instances) == 0 {
		return nil, diags, fmt.Errorf("%w: %s has no vrrp_instance", ErrConfig, path)
	}
	return cfg, diags, nil
}
