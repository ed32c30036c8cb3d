//go:build linux

package flood

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// batch is how many packets one sendmmsg(2) carries; tick is the pause
// between the rate checks.
const (
	batch = 64
	tick  = 5 * time.Millisecond
)

// Flooder is an open flood: its raw socket, in the namespace it was
// opened in.
type Flooder struct {
	cfg  Config
	b    *builder
	conn net.PacketConn
	raw  *ipv4.RawConn
	msgs []ipv4.Message
	bufs [][]byte
}

// Open checks cfg and opens the raw socket in the calling thread's
// network namespace (call it inside netlab.Host.Do); Run may then be
// called from any goroutine.
func Open(cfg Config) (*Flooder, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	b, err := newBuilder(cfg)
	if err != nil {
		return nil, fmt.Errorf("flood: %w", err)
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("flood: %w", err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = unix.BindToDevice(int(fd), cfg.Interface) })
		return errors.Join(err, serr)
	}}
	conn, err := lc.ListenPacket(context.Background(), "ip4:"+strconv.Itoa(vrrp.Protocol), "0.0.0.0")
	if err != nil {
		return nil, fmt.Errorf("flood: raw socket: %w", err)
	}
	raw, err := ipv4.NewRawConn(conn) // sets IP_HDRINCL
	if err == nil {
		err = raw.SetMulticastInterface(ifi)
	}
	if err == nil {
		err = raw.SetMulticastLoopback(false)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("flood: raw socket: %w", err)
	}
	f := &Flooder{cfg: cfg, b: b, conn: conn, raw: raw, msgs: make([]ipv4.Message, batch), bufs: make([][]byte, batch)}
	to := &net.IPAddr{IP: cfg.Dst.AsSlice()}
	for i := range f.msgs {
		f.bufs[i] = make([]byte, 0, 1500)
		f.msgs[i].Addr = to
		f.msgs[i].Buffers = [][]byte{nil}
	}
	return f, nil
}

// Close closes the socket.
func (f *Flooder) Close() error { return f.conn.Close() }

// Run sends until Count packets, Duration or ctx, whichever ends first,
// keeping to Rate: every tick it sends what the rate owes, in batches.
func (f *Flooder) Run(ctx context.Context) Result {
	var res Result
	start := time.Now()
	end := start.Add(f.cfg.Duration)
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for res.Sent+res.Errors < f.cfg.Count {
		now := time.Now()
		if !now.Before(end) || ctx.Err() != nil {
			break
		}
		owed := int(now.Sub(start).Seconds()*float64(f.cfg.Rate)) - res.Sent - res.Errors
		owed = min(owed, f.cfg.Count-res.Sent-res.Errors)
		for owed > 0 {
			n := min(owed, batch)
			for i := range n {
				p, err := f.b.packet(f.bufs[i])
				if err != nil {
					res.LastErr = err
					res.Elapsed = time.Since(start)
					return res
				}
				f.bufs[i] = p
				f.msgs[i].Buffers[0] = p
			}
			sent, err := f.raw.WriteBatch(f.msgs[:n], 0)
			if sent < 0 {
				sent = 0
			}
			res.Sent += sent
			if err != nil || sent < n {
				res.Errors += n - sent
				if err != nil {
					res.LastErr = err
				}
			}
			owed -= n
		}
		select {
		case <-ctx.Done():
		case <-tk.C:
		}
	}
	res.Elapsed = time.Since(start)
	return res
}
