package daemon

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/hactl/hactl/daemon/metrics"
	"github.com/hactl/hactl/daemon/notify"
	"github.com/hactl/hactl/daemon/scripts"
	"github.com/hactl/hactl/daemon/sdnotify"
	"github.com/hactl/hactl/daemon/track"
	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/config"
	"github.com/hactl/hactl/pkg/vrrp"
)

// event is anything the loop handles; it runs on the loop goroutine.
type event func(r *runtime)

// sock is one raw socket and the instances that share it.
type sock struct {
	key    sockKey
	ifi    *net.Interface
	family int
	conn   advertConn
	byVRID map[uint8]*instance
	// joined are the groups joined: instances sharing the socket share
	// the membership (joining twice is an error).
	joined map[netip.Addr]bool
	// otherVRID counts adverts for VRIDs no instance here runs (the loop's);
	// queueDrops is the kernel's count of receive-buffer drops, kept by
	// the reader.
	otherVRID  uint64
	queueDrops atomic.Uint64
}

type sockKey struct {
	ifname string
	family int
	// ah: the IPsec-AH socket (protocol 51) of auth_type AH instances.
	ah bool
}

// runtime is the loop's state. Only the loop goroutine touches it.
type runtime struct {
	opts      Options
	ctx       context.Context
	log       *slog.Logger
	cfg       *config.Config
	stateFile string
	clock     clock
	start     time.Time
	events    chan event
	done      chan struct{}
	vips      vipTable
	// vmacs makes the VMACs (nil without use_vmac); vmacNames are their
	// names (vmacs.go).
	vmacs     vmacTable
	vmacNames map[vmacKey]string
	// vmacList are their names, sorted (read off the loop too: set at
	// start only); reopen opens a socket again on its interface (a VMAC
	// made again).
	vmacList []string
	reopen   func(s *sock) error
	// listen opens an instance's socket and announcerOf finds (or makes)
	// an interface's announcer: kept from the start for the instances a
	// reload adds (instance.go, buildInstances).
	listen      func(c *config.Instance, key sockKey) (*sock, error)
	announcerOf func(ifname string) announcer
	// heardOnBase: advert sources heard on a base interface's socket
	// (vmacs.go, vmacDuplicate).
	heardOnBase map[heardKey]time.Time
	socks       map[sockKey]*sock
	garps       map[string]announcer // by interface
	insts       []*instance
	byName      map[string]*instance
	drops       map[string]uint64
	daemon      api.Daemon
	promos      *promotionStore
	runner      *scripts.Runner
	mon         *track.Monitor
	notifier    *notify.Notifier
	bus         *notify.Bus // GET /v1/events; the notifier publishes to it
	metrics     *metrics.Metrics
	sd          *sdnotify.Notifier
	reloads     *reloader
	// By concern, each in its file: the timer heap and the wake-up
	// (timers.go), the state file writer (statewriter.go), sync-group
	// propagation (syncgroup.go), the buffers of receive and send.
	timers  timerQueue
	state   stateWriter
	sync    syncState
	fw      fwState // no_accept's nftables table (firewall.go)
	scratch scratch

	// static are the static_* entries installed (static.go).
	static statics
	// guards are the etcd guards running (guard.go).
	guards guardState
}

// scratch is what receive and sendAdvert reuse for every packet.
type scratch struct {
	advert  vrrp.Advertisement // the advert decoded into
	addrs   []netip.Addr       // a received advert's VIPs, for checkConflict
	out     []byte             // an advert encoded
	onlyDst [1]netip.Addr
}

// now is the protocol clock: time since start, as pkg/vrrp wants it.
func (r *runtime) now() time.Duration { return r.clock.Now().Sub(r.start) }

// post queues an event for the loop; it gives up once the loop has ended.
func (r *runtime) post(ev event) bool {
	select {
	case r.events <- ev:
		return true
	case <-r.done:
		return false
	}
}

// closeSockets closes every advert socket; their readers end. The VMACs
// go then (after the sockets bound to them): on every way out of Run.
func (r *runtime) closeSockets() {
	for _, s := range r.socks {
		s.conn.Close()
	}
	r.removeVMACs()
}

// hostname is best effort: the API shows it to tell nodes apart.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
