package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var metricName = regexp.MustCompile(`\b(?:hactl|keepalived)_[a-z0-9_]+`)

// exported is every metric name a scrape can show, with a histogram's
// _bucket, _sum and _count.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	m, f := newFake(t, true)
	f.set(withGuard)
	m.ScriptRun("vrrp_script", "chk", true, time.Millisecond)
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		names[n] = true
		if mf.GetType().String() == "HISTOGRAM" {
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		}
	}
	return names
}

func checkNames(t *testing.T, where string, text string, names map[string]bool) int {
	t.Helper()
	found := 0
	for _, n := range metricName.FindAllString(text, -1) {
		found++
		if !names[n] {
			t.Errorf("%s uses %s, which hactl does not export", where, n)
		}
	}
	return found
}

// TestAlertRules checks docs/prometheus-alerts.yml: it parses, every rule
// has an expression, a severity and a summary, and every metric it uses
// exists.
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("../../docs/prometheus-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert       string
				Expr        string
				For         string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	names := exported(t)
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			if r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: needs expr, labels.severity and annotations.summary", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for: %v", r.Alert, err)
				}
			}
			if checkNames(t, r.Alert, r.Expr, names) == 0 {
				t.Errorf("%s: no hactl metric in %q", r.Alert, r.Expr)
			}
		}
	}
	for _, a := range []string{"HactlSplitBrain", "HactlFlapping", "HactlNoMaster"} {
		if !alerts[a] {
			t.Errorf("no %s alert", a)
		}
	}
}

// TestGrafanaDashboard checks docs/grafana-dashboard.json: it parses, and
// every metric its panels query exists.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) < 5 {
		t.Fatalf("dashboard %q (%q) with %d panels", dash.Title, dash.UID, len(dash.Panels))
	}
	names := exported(t)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			checkNames(t, "panel "+p.Title, tg.Expr, names)
		}
	}
}

// TestMetricsDoc checks that docs/metrics.md names every hactl metric and
// no hactl metric that does not exist.
func TestMetricsDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	names := exported(t)
	for n := range names {
		if strings.HasPrefix(n, "hactl_") && !strings.HasSuffix(n, "_bucket") && !strings.HasSuffix(n, "_sum") &&
			!strings.HasSuffix(n, "_count") && !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/metrics.md does not document %s", n)
		}
	}
	for _, n := range metricName.FindAllString(doc, -1) {
		if strings.HasPrefix(n, "hactl_") && !names[n] && !strings.HasSuffix(n, "_") {
			t.Errorf("docs/metrics.md names %s, which does not exist", n)
		}
	}
}
