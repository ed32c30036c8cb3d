package cli

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/pcapread"
	"github.com/hactl/hactl/pkg/watch"
)

// FuzzReadCapture feeds arbitrary bytes to `watch --file` as a capture:
// the reader, the link layer, the decoder, the table and the output must
// not panic or hang, and every VRRP frame they get must come out, valid or
// INVALID with a rule's name, never dropped. Work is bounded by the input:
// every record consumes bytes of it.
func FuzzReadCapture(f *testing.F) {
	f.Add(conflictCapture(f))
	f.Add(pcapBytes([]capPacket{{0, 1, advertIP(f, "10.0.0.1", 1, 255, "10.0.0.9")}}))
	// A pcapng of one Linux cooked v2 record.
	ng := []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}
	ng = append(ng, 1, 0, 0, 0, 20, 0, 0, 0, 0x14, 0x01, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0)
	rec := append([]byte{0x08, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, advertIP(f, "10.0.0.2", 2, 100, "10.0.0.8")...)
	for len(rec)%4 != 0 {
		rec = append(rec, 0)
	}
	epb := binary.LittleEndian.AppendUint32(nil, 6)
	epb = binary.LittleEndian.AppendUint32(epb, uint32(32+len(rec)))
	epb = append(epb, make([]byte, 12)...)
	epb = binary.LittleEndian.AppendUint32(epb, uint32(len(rec)))
	epb = binary.LittleEndian.AppendUint32(epb, uint32(len(rec)))
	epb = append(epb, rec...)
	epb = binary.LittleEndian.AppendUint32(epb, uint32(32+len(rec)))
	f.Add(append(ng, epb...))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr, err := pcapread.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		io, _, _ := TestStreams()
		w := newWatcher(&WatchOptions{IO: io, Global: &GlobalOptions{Output: "json"}, File: "fuzz"}, watch.NewTable(watch.Options{}))
		w.ndjson = false // the table and summary are exercised below
		var frames, vrrp int
		inner := w.observe
		deadline := time.Now().Add(10 * time.Second)
		for n := 0; ; n++ {
			if time.Now().After(deadline) || n > len(data) {
				t.Fatalf("record %d: reading %d bytes does not end", n, len(data))
			}
			rec, err := cr.Next()
			if err != nil {
				break
			}
			fr, ok := frameOf(rec)
			if !ok {
				continue
			}
			frames++
			before, _ := w.table.Packets()
			inner(fr)
			after, _ := w.table.Packets()
			vrrp += after - before
			var d watch.Decoder
			if p, isVRRP := d.Decode(fr); isVRRP && !p.Valid && p.Error == "" {
				t.Fatalf("invalid packet without a rule: %+v", p)
			}
		}
		if vrrp > frames {
			t.Fatalf("%d packets from %d frames", vrrp, frames)
		}
		_ = renderRows(discardWriter{}, w.table, true)
		w.summary(discardWriter{})
		_ = w.printFree()
	})
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

var _ io.Writer = discardWriter{}
