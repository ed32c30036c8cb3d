//go:build linux

package chaos

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/hactl/hactl/pkg/netlab/etcdlab"
)

// EtcdOf is c as a guarded run's Etcd.
func EtcdOf(c *etcdlab.Cluster) Etcd { return etcdOf{c} }

type etcdOf struct{ *etcdlab.Cluster }

func (e etcdOf) Size() int               { return len(e.Members) }
func (e etcdOf) Host(i int) *netlab.Host { return e.Members[i].Host }

// dualSampler reads every node's addresses every SampleEvery, through
// netlink handles of its own (the run's goroutine uses the nodes'), and
// keeps the runs of samples with two owners or more until drained.
type dualSampler struct {
	stopc, done chan struct{}
	mu          sync.Mutex
	samples     int
	dual        int
	cur         *dualRun
	runs        []dualRun
}

type dualRun struct {
	start, end time.Time
	owners     []string
	n          int
}

func startSampler(nodes []*node, vip netip.Addr) (*dualSampler, error) {
	var hs []*netlink.Handle
	closeAll := func() {
		for _, h := range hs {
			h.Close()
		}
	}
	for _, n := range nodes {
		ns, err := netns.GetFromName(n.Netns)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", n.Name, err)
		}
		h, err := netlink.NewHandleAt(ns)
		ns.Close()
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: netlink: %w", n.Name, err)
		}
		hs = append(hs, h)
	}
	want := vip.AsSlice()
	s := &dualSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer closeAll()
		t := time.NewTicker(SampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
			var owners []string
			for i, h := range hs {
				addrs, err := h.AddrList(nil, netlink.FAMILY_V4)
				if err != nil {
					continue
				}
				for _, a := range addrs {
					if a.IP.Equal(want) {
						owners = append(owners, nodes[i].Name)
						break
					}
				}
			}
			s.record(time.Now(), owners)
		}
	}()
	return s, nil
}

func (s *dualSampler) record(at time.Time, owners []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	if len(owners) < 2 {
		if s.cur != nil {
			s.runs = append(s.runs, *s.cur)
			s.cur = nil
		}
		return
	}
	s.dual++
	if s.cur == nil {
		s.cur = &dualRun{start: at, owners: owners}
	}
	s.cur.end, s.cur.n = at, s.cur.n+1
}

// drain returns the runs of two-owner samples that have ended.
func (s *dualSampler) drain() []dualRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.runs
	s.runs = nil
	return out
}

// stop ends sampling (a run still going counts as ended) and returns the
// counts.
func (s *dualSampler) stop() (samples, dual int) {
	close(s.stopc)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		s.runs = append(s.runs, *s.cur)
		s.cur = nil
	}
	return s.samples, s.dual
}

// StartEtcd starts an etcd member on each of hosts (data under dir) for a
// guarded run; stop stops them.
func StartEtcd(ctx context.Context, hosts []*netlab.Host, dir string) (e Etcd, stop func(), err error) {
	c, err := etcdlab.Start(ctx, hosts, etcdlab.Options{DataRoot: dir})
	if err != nil {
		return nil, nil, err
	}
	return EtcdOf(c), c.Close, nil
}
