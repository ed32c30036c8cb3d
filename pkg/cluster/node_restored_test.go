package cluster

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// TestFromAPIRestoredCounters: what the daemon put back (VIPs, routes,
// rules) and the VMACs it made again reach the node's JSON, and are left
// out when zero.
func TestFromAPIRestoredCounters(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	in := api.Instance{Name: "VI_1", State: "MASTER", LastVIPDeleted: &at,
		Counters: api.Counters{VIPsRestored: 2, RoutesRestored: 3, RulesRestored: 4, VMACsRecreated: 5}}
	b, err := json.Marshal(fromAPI(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"vips_restored":2`, `"routes_restored":3`, `"rules_restored":4`, `"vmacs_recreated":5`, `"last_vip_deleted":"2026-01-01T12:00:00Z"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON lacks %s: %s", w, b)
		}
	}
	b, _ = json.Marshal(fromAPI(api.Instance{Name: "VI_1"}))
	for _, w := range []string{"vips_restored", "routes_restored", "rules_restored", "vmacs_recreated", "last_vip_deleted"} {
		if strings.Contains(string(b), w) {
			t.Errorf("JSON of an instance with nothing restored has %s: %s", w, b)
		}
	}
}
