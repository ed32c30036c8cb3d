//go:build linux

package cli_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/labtest"
)

// ahInstance is a VRRPv2 instance with auth_type AH that keepalived and
// hactl both read: priority 255 and state MASTER, so that it advertises at
// once.
func ahInstance(router string, vrid int, vip string) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
}
vrrp_instance AH%d {
    state MASTER
    interface eth0
    virtual_router_id %d
    version 2
    priority 255
    advert_int 1
    authentication {
        auth_type AH
        auth_pass hvsecret
    }
    virtual_ipaddress {
        %s
    }
}
`, router, vrid, vrid, vip)
}

// ahWirePacket is the part of a watch NDJSON object an AH test reads.
type ahWirePacket struct {
	wirePacket
	AH *struct {
		SPI uint32 `json:"spi"`
		Seq uint32 `json:"seq"`
		ICV string `json:"icv"`
	} `json:"ah"`
}

// TestE2EWatchAH: keepalived 2.2.7 (node1, VRID 71) and hactl (node2, VRID
// 72) advertise with auth_type AH, IPv4 protocol 51. `hactl watch` from
// the operator's namespace lists both, valid, with auth type AH, the AH
// header's SPI (the source address) and rising sequence numbers, and the
// ICV marked unchecked (watch has no key).
func TestE2EWatchAH(t *testing.T) {
	labtest.Require(t, "keepalived")
	bin := watchHactl(t)
	l := labtest.Up(t, netlab.Config{Nodes: 2})
	startKeepalived(t, l.Node(1), ahInstance("node1", 71, "10.77.0.171/24"))
	startHactlDaemon(t, bin, l.Node(2), ahInstance("node2", 72, "10.77.0.172/24"))
	time.Sleep(time.Second)

	out, stderr, code := watchIn(t, l.Operator, bin, "watch", "--interface", "eth0", "--duration", "3s", "-o", "json")
	if code != 0 { // two routers of distinct VRIDs: a clean segment
		t.Fatalf("watch exit %d: %s", code, stderr)
	}
	seqs := map[int][]uint32{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p ahWirePacket
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("not a JSON line %q: %v", line, err)
		}
		if p.VRID != 71 && p.VRID != 72 {
			continue
		}
		src := l.Node(p.VRID - 70).Addr4
		if !p.Valid || p.Version != 2 || p.AuthType == nil || *p.AuthType != 2 || p.AH == nil ||
			p.AH.ICV != "unchecked" || p.AH.SPI != uint32(src.As4()[0])<<24|uint32(src.As4()[1])<<16|uint32(src.As4()[2])<<8|uint32(src.As4()[3]) ||
			p.Src != src.String() || p.Priority != 255 {
			t.Errorf("VRID %d: %s", p.VRID, line)
			continue
		}
		seqs[p.VRID] = append(seqs[p.VRID], p.AH.Seq)
	}
	for _, vrid := range []int{71, 72} {
		s := seqs[vrid]
		if len(s) < 2 {
			t.Errorf("VRID %d: %d AH adverts heard in 3 s, want at least 2 (stderr %s)", vrid, len(s), stderr)
			continue
		}
		for i := 1; i < len(s); i++ {
			if s[i] <= s[i-1] {
				t.Errorf("VRID %d: AH sequence numbers not rising: %v", vrid, s)
				break
			}
		}
	}
	if !strings.Contains(stderr, "(0 invalid) from 2 sources") {
		t.Errorf("summary: %s", stderr)
	}
	t.Logf("AH sequence numbers heard: %v; %s", seqs, strings.TrimSpace(stderr))
}
