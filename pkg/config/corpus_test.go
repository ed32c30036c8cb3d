package config

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir holds keepalived's own sample configurations with keepalived
// 2.2.7's verdict on each (see shared/LAB.md).
const corpusDir = "../../../shared/corpus/keepalived-samples"

type corpusEntry struct {
	file, verdict, exit, message, hasVRRP string
}

func readManifest(t *testing.T) []corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("keepalived sample corpus not available (%v); it lives in shared/ beside the repository", err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) < 5 {
			t.Fatalf("MANIFEST.tsv: bad line %q", line)
		}
		out = append(out, corpusEntry{p[0], p[1], p[2], p[3], p[4]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// corpusExpectRejected lists the samples keepalived rejects and hactl's
// config check must reject too (errors, or corrections keepalived's
// daemon applies and runs with), with the reason.
var corpusExpectRejected = map[string]string{
	"doc_samples_keepalived.conf.SSL_GET":                 "state MASTER with auth_type AH and priority 100 (corrected: BACKUP)",
	"doc_samples_keepalived.conf.vrrp.lvs_syncd":          "vrrp_sync_group without group { }: unknown keyword VI_2 (corrected: skipped)",
	"keepalived_etc_keepalived_keepalived.conf":           "vrrp_garp_interval 0 is out of range (corrected: default kept)",
	"keepalived_etc_keepalived_keepalived.conf.sample.in": "vrrp_garp_interval 0 is out of range (corrected: default kept)",
}

// TestCorpus checks every keepalived sample: what keepalived accepts hactl
// accepts (warnings allowed); for what keepalived rejects, hactl either
// rejects too (listed above) or explains with a warning why it differs.
func TestCorpus(t *testing.T) {
	for _, e := range readManifest(t) {
		t.Run(e.file, func(t *testing.T) {
			cfg, diags, err := Load(filepath.Join(corpusDir, e.file), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("keepalived: %s (exit %s: %s); hactl: %d instances, diagnostics:\n%s", e.verdict, e.exit, e.message, len(cfg.Instances), diags)
			if (e.hasVRRP == "yes") != (len(cfg.Instances) > 0) {
				t.Errorf("has vrrp_instance = %s, hactl found %d instances", e.hasVRRP, len(cfg.Instances))
			}
			switch {
			case e.verdict == "accepted" && (diags.HasErrors() || diags.HasCorrected()):
				t.Errorf("keepalived accepts this file, hactl reports errors:\n%s%s", diags.Errors(), diags.Corrected())
			case e.verdict == "rejected" && corpusExpectRejected[e.file] != "" && !diags.HasErrors() && !diags.HasCorrected():
				t.Errorf("keepalived rejects this file (%s) and so should hactl: %s", e.message, corpusExpectRejected[e.file])
			case e.verdict == "rejected" && corpusExpectRejected[e.file] == "" && len(diags) == 0:
				t.Errorf("keepalived rejects this file (%s); hactl reports nothing", e.message)
			}
		})
	}
}
