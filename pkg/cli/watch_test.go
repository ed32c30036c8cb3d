package cli

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
	"github.com/hactl/hactl/pkg/watch"
)

// capTime is the timestamp of the first packet of test captures.
var capTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// capPacket is one record of a test capture.
type capPacket struct {
	at  time.Duration
	mac byte // last byte of the source MAC
	ip  []byte
}

// pcapBytes writes an Ethernet pcap (little-endian, microseconds).
func pcapBytes(pkts []capPacket) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	b.Write(hdr)
	for _, p := range pkts {
		frame := []byte{1, 0, 0x5e, 0, 0, 0x12, 2, 0, 0, 0, 0, p.mac, 0x08, 0}
		if p.ip[0]>>4 == 6 {
			frame[12], frame[13] = 0x86, 0xdd
		}
		frame = append(frame, p.ip...)
		ts := capTime.Add(p.at)
		rh := make([]byte, 16)
		binary.LittleEndian.PutUint32(rh, uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(rh[4:], uint32(ts.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(frame)))
		b.Write(rh)
		b.Write(frame)
	}
	return b.Bytes()
}

// advertIP encodes a VRRPv3 IPv4 multicast advert from src.
func advertIP(t testing.TB, src string, vrid, prio uint8, vips ...string) []byte {
	t.Helper()
	a := vrrp.Advertisement{Version: vrrp.Version3, VRID: vrid, Priority: prio, Interval: time.Second}
	var addrs []netip.Addr
	for _, v := range vips {
		addrs = append(addrs, netip.MustParseAddr(v))
	}
	if err := a.SetAddrs(addrs...); err != nil {
		t.Fatal(err)
	}
	s, d := netip.MustParseAddr(src), vrrp.MulticastIPv4()
	payload, err := a.Append(nil, s, d)
	if err != nil {
		t.Fatal(err)
	}
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	h[8], h[9] = 255, vrrp.Protocol
	copy(h[12:], s.AsSlice())
	copy(h[16:], d.AsSlice())
	return append(h, payload...)
}

// conflictCapture: two clusters on VRID 60 with different VIPs, one
// unrelated VRID 61, a priority-0 advert, a packet with a bad checksum,
// and an ARP frame in between.
func conflictCapture(t testing.TB) []byte {
	var pkts []capPacket
	for i := range 3 {
		d := time.Duration(i) * time.Second
		pkts = append(pkts,
			capPacket{d, 1, advertIP(t, "10.77.0.11", 60, 100, "10.77.0.100")},
			capPacket{d + 300*time.Millisecond, 3, advertIP(t, "10.77.0.13", 60, 100, "10.77.0.200")},
			capPacket{d + 600*time.Millisecond, 2, advertIP(t, "10.77.0.12", 61, 100, "10.77.0.101")})
	}
	bad := advertIP(t, "10.77.0.14", 62, 100, "10.77.0.102")
	bad[len(bad)-1] ^= 1
	pkts = append(pkts, capPacket{3 * time.Second, 4, bad},
		capPacket{3500 * time.Millisecond, 2, advertIP(t, "10.77.0.12", 61, 0, "10.77.0.101")})
	b := pcapBytes(pkts)
	// An ARP frame, which the watch must skip.
	arp := pcapBytes([]capPacket{{4 * time.Second, 5, make([]byte, 28)}})
	arp = arp[24:]
	arp[16+12], arp[16+13] = 0x08, 0x06
	return append(b, arp...)
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ndjson parses NDJSON output into objects.
func ndjson(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		objs = append(objs, m)
	}
	return objs
}

func flagsOf(m map[string]any) []string {
	var out []string
	for _, f := range m["flags"].([]any) {
		out = append(out, f.(string))
	}
	return out
}

func TestWatchFileNDJSON(t *testing.T) {
	path := writeTemp(t, "c.pcap", conflictCapture(t))
	inv := writeTemp(t, "inventory", []byte("cluster a\n  node1 host=10.77.0.11\n  node3 host=10.77.0.13\n"))
	code, out, stderr := run(t, nil, "watch", "--file", path, "--inventory", inv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	objs := ndjson(t, out)
	if len(objs) != 11 {
		t.Fatalf("%d objects, want 11 (ARP skipped):\n%s", len(objs), out)
	}
	first := objs[0]
	if first["time"] != "2025-03-01T12:00:00.000000000Z" || first["src"] != "10.77.0.11" || first["node"] != "node1" ||
		first["vrid"] != 60.0 || first["interval_cs"] != 100.0 || first["valid"] != true || first["src_mac"] != "02:00:00:00:00:01" {
		t.Errorf("first packet %v", first)
	}
	if f := objs[1]; !slices.Equal(flagsOf(f), []string{"CONFLICT"}) || f["conflict_with"].([]any)[0] != "10.77.0.11" {
		t.Errorf("second packet not a conflict with the first: %v", f)
	}
	bad := objs[9]
	if bad["valid"] != false || bad["error"] != "checksum" || !slices.Equal(flagsOf(bad), []string{"INVALID"}) || bad["vrid"] != 62.0 {
		t.Errorf("bad checksum packet %v", bad)
	}
	if r := objs[10]; r["priority"] != 0.0 || !slices.Equal(flagsOf(r), []string{"RESIGN"}) {
		t.Errorf("priority 0 packet %v", r)
	}
	for _, want := range []string{"11 VRRP packets (1 invalid) from 4 sources", "1 non-VRRP packet skipped",
		"CONFLICT - inet VRID 60: 10.77.0.11 (node1) [v3, 1s, VIPs 10.77.0.100] and 10.77.0.13 (node3) [v3, 1s, VIPs 10.77.0.200] differ in VIPs",
		"INVALID packets by rule: checksum 1", "RESIGN - inet VRID 61: 10.77.0.12 sent priority 0"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
}

func TestWatchFileCountAndDuration(t *testing.T) {
	path := writeTemp(t, "c.pcap", conflictCapture(t))
	_, out, _ := run(t, nil, "watch", "--file", path, "--count", "2")
	if n := len(ndjson(t, out)); n != 2 {
		t.Errorf("--count 2: %d packets", n)
	}
	_, out, _ = run(t, nil, "watch", "--file", path, "--duration", "1s")
	if n := len(ndjson(t, out)); n != 4 {
		t.Errorf("--duration 1s: %d packets, want 4 (0 to 1.0 s)", n)
	}
}

func TestWatchFileTable(t *testing.T) {
	io, out, _ := TestStreams()
	io.outTTY = true
	t.Setenv("NO_COLOR", "1")
	path := writeTemp(t, "c.pcap", conflictCapture(t))
	err := runWatch(t.Context(), &WatchOptions{IO: io, Global: &GlobalOptions{Output: "table"}, File: path})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "INTERFACE") {
		t.Fatalf("table:\n%s", out)
	}
	for i, want := range []string{"CONFLICT(10.77.0.13)", "CONFLICT(10.77.0.11)", "RESIGN", "INVALID(checksum)"} {
		if !strings.HasSuffix(lines[i+1], want) {
			t.Errorf("row %d %q does not end with %q", i+1, lines[i+1], want)
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("escape sequences with NO_COLOR set")
	}
}

func TestWatchFree(t *testing.T) {
	path := writeTemp(t, "c.pcap", conflictCapture(t))
	code, out, stderr := run(t, nil, "watch", "--free", "--file", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if lines := strings.Split(out, "\n"); len(lines) < 3 || strings.Join(strings.Fields(lines[1]), " ") != "inet 60-62 1-59,63-255" ||
		strings.Join(strings.Fields(lines[2]), " ") != "inet6 - 1-255" {
		t.Errorf("free table:\n%s", out)
	}
	_, out, _ = run(t, nil, "watch", "--free", "--file", path, "-o", "json")
	var res freeResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Families) != 2 || !slices.Equal(res.Families[0].Used, []int{60, 61, 62}) || len(res.Families[0].Free) != 252 ||
		len(res.Families[1].Used) != 0 || len(res.Families[1].Free) != 255 {
		t.Errorf("free JSON %+v", res)
	}
}

func TestWatchFileErrors(t *testing.T) {
	code, _, stderr := run(t, nil, "watch", "--file", writeTemp(t, "x", []byte("not a capture")))
	if code != ExitFailure || !strings.Contains(stderr, "not a pcap or pcapng capture") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	full := conflictCapture(t)
	code, out, stderr := run(t, nil, "watch", "--file", writeTemp(t, "cut", full[:len(full)-10]))
	if code != 0 || len(ndjson(t, out)) != 11 || !strings.Contains(stderr, "ends in the middle of record 12") {
		t.Errorf("cut capture: exit %d, %d packets, %s", code, len(ndjson(t, out)), stderr)
	}
	code, _, stderr = run(t, nil, "watch", "--interface", "eth0", "--file", "x")
	if code != ExitFailure || !strings.Contains(stderr, "none of the others can be") {
		t.Errorf("--interface with --file: exit %d: %s", code, stderr)
	}
}

// TestWatchGoldenThroughCapture reads pkg/vrrp's keepalived 2.2.7 vectors
// through a capture: each must come out valid, with its fields.
func TestWatchGoldenThroughCapture(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "vrrp", "testdata", "golden", "*.hex"))
	var pkts []capPacket
	for i, f := range files {
		raw, _ := os.ReadFile(f)
		var sb strings.Builder
		for _, l := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(l, "#") {
				sb.WriteString(strings.TrimSpace(l))
			}
		}
		b, err := hex.DecodeString(sb.String())
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, capPacket{time.Duration(i) * time.Millisecond, 1, b})
	}
	_, out, _ := run(t, nil, "watch", "--file", writeTemp(t, "g.pcap", pcapBytes(pkts)), "-o", "json")
	objs := ndjson(t, out)
	if len(objs) != len(files) || len(files) == 0 {
		t.Fatalf("%d objects for %d vectors", len(objs), len(files))
	}
	for i, o := range objs {
		if o["valid"] != true {
			t.Errorf("%s: %v", filepath.Base(files[i]), o)
		}
	}
}

func TestAuthWord(t *testing.T) {
	cases := []struct {
		row  watch.Row
		want string
	}{
		{watch.Row{Version: 3}, "-"},
		{watch.Row{Version: 2}, "none"},
		{watch.Row{Version: 2, AuthType: 1}, "PASS"},
		{watch.Row{Version: 2, AuthType: 2, AH: true}, "AH (ICV unchecked)"},
		{watch.Row{Version: 2, AuthType: 2}, "AH (no AH header)"},
		{watch.Row{Version: 2, AuthType: 7}, "type 7"},
	}
	for _, c := range cases {
		if got := authWord(c.row); got != c.want {
			t.Errorf("authWord(%+v) = %q, want %q", c.row, got, c.want)
		}
	}
}

// dualMasterCapture: 10.77.0.21 and .22 both advertise VRID 70 with the
// same VIP for 6 s (a Master_Down_Interval is about 3.6 s); with conflict,
// VRID 60 is also claimed with two VIP sets.
func dualMasterCapture(t testing.TB, conflict bool) []byte {
	var pkts []capPacket
	for i := range 7 {
		d := time.Duration(i) * time.Second
		pkts = append(pkts,
			capPacket{d, 1, advertIP(t, "10.77.0.21", 70, 100, "10.77.0.170")},
			capPacket{d + 100*time.Millisecond, 2, advertIP(t, "10.77.0.22", 70, 100, "10.77.0.170")})
		if conflict {
			pkts = append(pkts,
				capPacket{d + 200*time.Millisecond, 3, advertIP(t, "10.77.0.11", 60, 100, "10.77.0.100")},
				capPacket{d + 300*time.Millisecond, 4, advertIP(t, "10.77.0.13", 60, 100, "10.77.0.200")})
		}
	}
	return pcapBytes(pkts)
}

func cleanCapture(t testing.TB) []byte {
	var pkts []capPacket
	for i := range 5 {
		pkts = append(pkts, capPacket{time.Duration(i) * time.Second, 1, advertIP(t, "10.77.0.11", 60, 100, "10.77.0.100")})
	}
	return pcapBytes(pkts)
}

// TestWatchExitCodes: a watch bounded by --duration or --count exits 3
// for two masters, 6 for a VRID conflict (3 when both), 0 when clean;
// unbounded, and with --free, findings leave the exit at 0.
func TestWatchExitCodes(t *testing.T) {
	conflict := writeTemp(t, "conflict.pcap", conflictCapture(t))
	dual := writeTemp(t, "dual.pcap", dualMasterCapture(t, false))
	both := writeTemp(t, "both.pcap", dualMasterCapture(t, true))
	clean := writeTemp(t, "clean.pcap", cleanCapture(t))
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--file", clean, "--duration", "10s"}, ExitOK, "5 VRRP packets (0 invalid) from 1 source"},
		{[]string{"--file", conflict, "--duration", "10s"}, ExitConflict, "CONFLICT - inet VRID 60"},
		{[]string{"--file", conflict, "--count", "2"}, ExitConflict, "CONFLICT - inet VRID 60"},
		{[]string{"--file", conflict, "--count", "1"}, ExitOK, "1 VRRP packet (0 invalid)"},
		{[]string{"--file", dual, "--duration", "10s"}, ExitSplitBrain, "DUAL-MASTER - inet VRID 70"},
		// Within one Master_Down_Interval two masters are a takeover, not split brain.
		{[]string{"--file", dual, "--duration", "2s"}, ExitOK, "from 2 sources"},
		{[]string{"--file", both, "--duration", "10s"}, ExitSplitBrain, "CONFLICT - inet VRID 60"},
		{[]string{"--file", both}, ExitOK, "DUAL-MASTER - inet VRID 70"},
		{[]string{"--file", both, "--free", "--duration", "10s"}, ExitOK, ""},
	} {
		t.Run(strings.Join(tc.args[2:], " "), func(t *testing.T) {
			code, _, stderr := run(t, nil, append([]string{"watch", "-o", "json"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("watch %v: exit %d, want %d; stderr:\n%s", tc.args, code, tc.code, stderr)
			}
		})
	}
}

func TestWatchExit(t *testing.T) {
	c := watch.Finding{Flag: watch.FlagConflict}
	d := watch.Finding{Flag: watch.FlagDualMaster}
	for _, tc := range []struct {
		fs   []watch.Finding
		want int
	}{
		{nil, ExitOK},
		{[]watch.Finding{c}, ExitConflict},
		{[]watch.Finding{d}, ExitSplitBrain},
		{[]watch.Finding{c, d}, ExitSplitBrain},
		{[]watch.Finding{d, c}, ExitSplitBrain},
	} {
		if got := watchExit(tc.fs); got != tc.want {
			t.Errorf("watchExit(%v) = %d, want %d", tc.fs, got, tc.want)
		}
	}
}
