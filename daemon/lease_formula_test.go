package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// TestAutoLeaseIsMasterDownInterval holds pkg/config's automatic
// vip_lease (which may import nothing of the project, so it repeats the
// formula) equal to vrrp.MasterDownInterval plus the margin, rounded up to
// a second, for both versions: the lease once used VRRPv3's skew for
// VRRPv2.
func TestAutoLeaseIsMasterDownInterval(t *testing.T) {
	for _, v := range []int{2, 3} {
		for _, prio := range []int{1, 100, 254} {
			for _, iv := range []string{"0.1", "1", "3", "10"} {
				if v == 2 && iv == "0.1" {
					continue // VRRPv2 counts in whole seconds
				}
				src := fmt.Sprintf("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n version %d\n priority %d\n advert_int %s\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n", v, prio, iv)
				cfg, diags := config.Parse("t.conf", []byte(src), config.LoadOptions{})
				if diags.HasErrors() || len(cfg.Instances) != 1 {
					t.Fatalf("v%d prio %d advert %s: %s", v, prio, iv, diags.String())
				}
				in := cfg.Instances[0]
				d := vrrp.MasterDownInterval(vrrp.Version(v), prio, in.AdvertInt) + config.VIPLeaseMargin
				want := (d + time.Second - 1) / time.Second * time.Second
				if in.VIPLease != want {
					t.Errorf("v%d prio %d advert %s: lease %v, want %v", v, prio, iv, in.VIPLease, want)
				}
			}
		}
	}
}
