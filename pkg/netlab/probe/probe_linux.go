//go:build linux

package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/hactl/hactl/pkg/netlab"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Port is the UDP echo port.
const Port = 7077

// Responders answers probes on every node with the node's name.
type Responders struct{ conns []net.PacketConn }

// StartResponders listens on 0.0.0.0:Port in each node's namespace.
func StartResponders(nodes []*netlab.Host) (*Responders, error) {
	r := &Responders{}
	for _, h := range nodes {
		var pc net.PacketConn
		if err := h.Do(func() (err error) { pc, err = net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", Port)); return err }); err != nil {
			r.Close()
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		r.conns = append(r.conns, pc)
		name := []byte(h.Name)
		go func() {
			buf := make([]byte, 64)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				if n >= 8 {
					_, _ = pc.WriteTo(append(buf[:8:8], name...), from)
				}
			}
		}()
	}
	return r, nil
}

// Close stops the responders.
func (r *Responders) Close() {
	for _, c := range r.conns {
		c.Close()
	}
}

// Prober sends a probe every Interval from the operator namespace.
type Prober struct {
	conn     net.PacketConn
	to       *net.UDPAddr
	interval time.Duration
	mu       sync.Mutex
	sent     map[uint64]time.Time
	answered map[uint64]string
	stop     chan struct{}
	wg       sync.WaitGroup
}

// StartProber probes vip:Port from op every interval.
func StartProber(op *netlab.Host, vip netip.Addr, interval time.Duration) (*Prober, error) {
	var pc net.PacketConn
	if err := op.Do(func() (err error) { pc, err = net.ListenPacket("udp4", ":0"); return err }); err != nil {
		return nil, err
	}
	p := &Prober{conn: pc, to: net.UDPAddrFromAddrPort(netip.AddrPortFrom(vip, Port)), interval: interval,
		sent: map[uint64]time.Time{}, answered: map[uint64]string{}, stop: make(chan struct{})}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 64)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n >= 8 {
				seq := binary.BigEndian.Uint64(buf[:8])
				p.mu.Lock()
				if _, dup := p.answered[seq]; !dup {
					p.answered[seq] = string(buf[8:n])
				}
				p.mu.Unlock()
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		var seq uint64
		msg := make([]byte, 8)
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			seq++
			binary.BigEndian.PutUint64(msg, seq)
			p.mu.Lock()
			p.sent[seq] = time.Now()
			p.mu.Unlock()
			_, _ = pc.WriteTo(msg, p.to)
		}
	}()
	return p, nil
}

// ProbeStats summarise a probing run.
type ProbeStats struct {
	Sent, Answered, Lost int
	// By counts the answers per node.
	By map[string]int
	// LongestGap is the longest run of lost probes, as time.
	LongestGap time.Duration
}

// Stop ends probing, waits 50 ms for late answers and returns the stats.
func (p *Prober) Stop() ProbeStats {
	close(p.stop)
	time.Sleep(50 * time.Millisecond)
	p.conn.Close()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := ProbeStats{Sent: len(p.sent), By: map[string]int{}}
	var gapStart time.Time
	for seq := uint64(1); seq <= uint64(len(p.sent)); seq++ {
		who, ok := p.answered[seq]
		if ok {
			st.Answered++
			st.By[who]++
			if !gapStart.IsZero() {
				st.LongestGap = max(st.LongestGap, p.sent[seq].Sub(gapStart))
				gapStart = time.Time{}
			}
			continue
		}
		st.Lost++
		if gapStart.IsZero() {
			gapStart = p.sent[seq]
		}
	}
	return st
}

// LostBetween counts the probes sent in [from, to) and, of those, the ones
// never answered; call it after Stop.
func (p *Prober) LostBetween(from, to time.Time) (lost, sent int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for seq, at := range p.sent {
		if at.Before(from) || !at.Before(to) {
			continue
		}
		sent++
		if _, ok := p.answered[seq]; !ok {
			lost++
		}
	}
	return lost, sent
}

// Sampler records which nodes hold the VIP, every interval.
type Sampler struct {
	nodes   []*netlab.Host
	handles []*netlink.Handle
	vip     netip.Addr
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples []Sample
}

// Sample is one look at every node.
type Sample struct {
	At     time.Time
	Owners []string
}

// StartSampler reads every node's addresses every interval.
func StartSampler(nodes []*netlab.Host, vip netip.Addr, interval time.Duration) (*Sampler, error) {
	s := &Sampler{nodes: nodes, vip: vip, stop: make(chan struct{}), done: make(chan struct{})}
	for _, h := range nodes {
		ns, err := netns.GetFromName(h.Netns)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		hd, err := netlink.NewHandleAt(ns)
		ns.Close()
		if err != nil {
			s.close()
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		s.handles = append(s.handles, hd)
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			smp := Sample{At: time.Now()}
			for i, hd := range s.handles {
				if holds(hd, s.vip) {
					smp.Owners = append(smp.Owners, s.nodes[i].Name)
				}
			}
			s.mu.Lock()
			s.samples = append(s.samples, smp)
			s.mu.Unlock()
		}
	}()
	return s, nil
}

func holds(hd *netlink.Handle, vip netip.Addr) bool {
	addrs, err := hd.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == vip {
			return true
		}
	}
	return false
}

func (s *Sampler) close() {
	for _, h := range s.handles {
		h.Close()
	}
}

// SampleStats summarise the samples.
type SampleStats struct {
	Samples int
	// DualSamples had two owners or more; LongestDual is the longest run
	// of them (from the first such sample to the next sample with fewer).
	DualSamples int
	LongestDual time.Duration
	// NoOwnerSamples had none; LongestNoOwner as above.
	NoOwnerSamples int
	LongestNoOwner time.Duration
	// Owners is the owner sequence with repeats collapsed ("node3 -> node1").
	Owners []string
}

// Stop ends sampling and returns the stats.
func (s *Sampler) Stop() SampleStats {
	close(s.stop)
	<-s.done
	s.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	return Summarise(s.samples)
}

// Summarise computes the stats of a sample sequence.
func Summarise(samples []Sample) SampleStats {
	st := SampleStats{Samples: len(samples)}
	var dualStart, noneStart time.Time
	last := ""
	for _, smp := range samples {
		key := fmt.Sprint(smp.Owners)
		if len(smp.Owners) == 0 {
			key = "none"
		}
		if key != last {
			st.Owners = append(st.Owners, key)
			last = key
		}
		if len(smp.Owners) > 1 {
			st.DualSamples++
			if dualStart.IsZero() {
				dualStart = smp.At
			}
		} else if !dualStart.IsZero() {
			st.LongestDual = max(st.LongestDual, smp.At.Sub(dualStart))
			dualStart = time.Time{}
		}
		if len(smp.Owners) == 0 {
			st.NoOwnerSamples++
			if noneStart.IsZero() {
				noneStart = smp.At
			}
		} else if !noneStart.IsZero() {
			st.LongestNoOwner = max(st.LongestNoOwner, smp.At.Sub(noneStart))
			noneStart = time.Time{}
		}
	}
	return st
}

// ErrUnsupported is returned off Linux.
var ErrUnsupported = errors.New("probe: Linux only")
