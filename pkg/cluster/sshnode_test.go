package cluster

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/hactl/hactl/pkg/api"
)

// A daemon's interfaces become the same Interfaces as iproute2's JSON
// would give: exact addresses, any prefix length, both families; a daemon
// without the field (older) decodes to nil, which sends the node to the
// probe.
func TestFromAPIInterfaces(t *testing.T) {
	var st api.Status
	doc := `{"daemon":{"name":"hactl"},"interfaces":[
	  {"name":"lo","index":1,"up":true,"addrs":[{"prefix":"127.0.0.1/8","flags":["permanent"]}]},
	  {"name":"eth0","index":2,"mac":"02:00:00:00:00:01","up":true,"addrs":[
	    {"prefix":"10.77.0.1/24"},{"prefix":"10.77.0.100/32","flags":["nodad"],"valid_seconds":30,"preferred_seconds":30},
	    {"prefix":"fd00::1/64","flags":["tentative"]}]}]}`
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		t.Fatal(err)
	}
	got, err := fromAPIInterfaces(st.Interfaces)
	if err != nil {
		t.Fatal(err)
	}
	want := []Interface{
		{Name: "lo", Index: 1, Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Index: 2, MAC: "02:00:00:00:00:01", Up: true, Addrs: []netip.Prefix{
			netip.MustParsePrefix("10.77.0.1/24"), netip.MustParsePrefix("10.77.0.100/32"), netip.MustParsePrefix("fd00::1/64")}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fromAPIInterfaces:\n got %+v\nwant %+v", got, want)
	}
	if h := holds(got, netip.MustParseAddr("10.77.0.100")); len(h) != 1 || h[0].String() != "10.77.0.100/32 on eth0" {
		t.Errorf("holds: %v", h)
	}

	var old api.Status
	if err := json.Unmarshal([]byte(`{"daemon":{"name":"hactl","version":"0.9"},"instances":[]}`), &old); err != nil || old.Interfaces != nil {
		t.Errorf("an older daemon's status: interfaces %v, err %v; want nil", old.Interfaces, err)
	}
	if _, err := fromAPIInterfaces([]api.Interface{{Name: "eth0", Addrs: []api.Address{{Prefix: "10.0.0.1"}}}}); err == nil || !strings.Contains(err.Error(), `eth0: address "10.0.0.1"`) {
		t.Errorf("bad prefix: %v", err)
	}
}
