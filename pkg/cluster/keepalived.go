package cluster

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/api"
)

// keepalived's instance states (keepalived/include/vrrp.h).
var keepalivedStates = map[int]api.State{0: api.StateInit, 1: api.StateBackup, 2: api.StateMaster, 3: api.StateFault, 98: api.StateStop}

// keepalivedJSON is keepalived's JSON dump (SIGFUNC=JSON, written to
// /tmp/keepalived.json by keepalived 2.x built with --enable-json): one
// element per vrrp_instance. Only the fields hactl shows are read.
type keepalivedJSON []struct {
	Data struct {
		Iname             string   `json:"iname"`
		IfpIfname         string   `json:"ifp_ifname"`
		VRID              int      `json:"vrid"`
		BasePriority      int      `json:"base_priority"`
		EffectivePriority int      `json:"effective_priority"`
		State             int      `json:"state"`
		LastTransition    float64  `json:"last_transition"`
		VIPs              []string `json:"vips"`
		// AdverInt is the advertisement interval in seconds (fractional
		// with VRRPv3).
		AdverInt float64 `json:"adver_int"`
		// Nopreempt is a JSON boolean in 2.2.x, a number in older dumps.
		Nopreempt    json.RawMessage `json:"nopreempt"`
		PreemptDelay float64         `json:"preempt_delay"`
	} `json:"data"`
}

// ParseKeepalivedJSON reads keepalived's JSON dump into instances. The
// VIPs are given as "10.77.0.100/24 dev eth0 scope global set"; the first
// word is the address.
func ParseKeepalivedJSON(b []byte) ([]Instance, error) {
	var dump keepalivedJSON
	if err := json.Unmarshal(bytes.TrimSpace(b), &dump); err != nil {
		return nil, fmt.Errorf("keepalived JSON dump: %w", err)
	}
	out := make([]Instance, 0, len(dump))
	for _, e := range dump {
		d := e.Data
		state, ok := keepalivedStates[d.State]
		if !ok {
			state = api.State("STATE-" + strconv.Itoa(d.State))
		}
		in := Instance{
			Name: d.Iname, Interface: d.IfpIfname, VRID: d.VRID, State: state,
			BasePriority: d.BasePriority, EffectivePriority: d.EffectivePriority,
			VIPs: []netip.Prefix{}, Held: []netip.Addr{}, FailingTrackers: []string{},
		}
		zero := 0 // keepalived's VIPs have no lifetime
		in.LeaseSeconds = &zero
		if np := strings.TrimSpace(string(d.Nopreempt)); np != "" && np != "null" {
			preempt := np == "false" || np == "0"
			in.Preempt = &preempt
		}
		if d.PreemptDelay > 0 {
			in.PreemptDelay = time.Duration(d.PreemptDelay * float64(time.Second))
		}
		if d.AdverInt > 0 {
			in.AdvertInterval = time.Duration(d.AdverInt * float64(time.Second))
		}
		if d.LastTransition > 0 {
			sec, frac := math.Modf(d.LastTransition)
			in.Since = time.Unix(int64(sec), int64(frac*1e9)).UTC().Truncate(time.Millisecond)
		}
		for _, v := range d.VIPs {
			if f := strings.Fields(v); len(f) > 0 {
				if p, err := parsePrefixOrAddr(f[0]); err == nil {
					in.VIPs = append(in.VIPs, p)
				}
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// keepalivedProbe is the shell script that finds keepalived in the node's
// network namespace and asks it for its JSON dump. It prints marker lines
// that parseProbe reads:
//
//	@@hactl:keepalived MAIN PID...   keepalived runs (main process first)
//	@@hactl:keepalived-version LINE
//	@@hactl:keepalived-json          the dump follows
//	@@hactl:keepalived-error TEXT    why there is no dump
//
// Why this way: keepalived 2.2.7 keeps no state file; its only
// non-intrusive report is the data dump it writes on a signal
// (SIGFUNC=JSON, else DATA). The dump changes nothing in keepalived; the
// file is removed first so a stale one is never read, and a lock serialises
// concurrent askers on one host. pgrep --ns limits the search to the
// namespace the command runs in, so keepalived of another namespace on the
// same host (a container, the lab) is not mistaken for this node's.
// pidof goes first: on a node with no keepalived at all (plain servers,
// the common case when no daemon answers) it ends the probe for about a
// third of pgrep --ns's cost, which reads every process's namespace.
const keepalivedProbe = `
if command -v pidof >/dev/null 2>&1 && ! pidof keepalived >/dev/null 2>&1; then exit 0; fi
pids=$(pgrep --ns $$ --nslist net -x keepalived 2>/dev/null); rc=$?
if [ $rc -ge 2 ]; then pids=$(pidof keepalived 2>/dev/null); fi
[ -n "$pids" ] || exit 0
main=
for p in $pids; do
  pp=$(ps -o ppid= -p $p 2>/dev/null | tr -d ' ')
  case " $pids " in *" $pp "*) ;; *) [ -n "$main" ] || main=$p ;; esac
done
[ -n "$main" ] || main=${pids%% *}
echo "@@hactl:keepalived $main" $pids
kbin=$(command -v keepalived || echo /usr/sbin/keepalived)
echo "@@hactl:keepalived-version $("$kbin" --version 2>&1 | head -n 1)"
sig=$("$kbin" --signum=JSON 2>/dev/null)
if [ -z "$sig" ]; then echo "@@hactl:keepalived-error keepalived was built without JSON support (--enable-json)"; exit 0; fi
# A keepalived that has just started may not take the signal yet (it
# blocks it for its signalfd early on), and the signal's default action ends
# the process: signal only when every keepalived process blocks, catches or
# ignores it (/proc/PID/status).
b=$((sig-1)); pos=$((16-b/4))
for p in $pids; do
  st=$(grep -E '^Sig(Blk|Ign|Cgt):' /proc/$p/status 2>/dev/null | awk '{print $2}')
  takes=0; n=0
  for m in $st; do
    [ ${#m} -eq 16 ] || continue
    n=$((n+1)); h=$(printf %s "$m" | cut -c$pos)
    takes=$((takes | ((0x$h >> (b%4)) & 1)))
  done
  if [ $n -gt 0 ] && [ $takes -eq 0 ]; then echo "@@hactl:keepalived-error keepalived (pid $p) is starting: it does not take its JSON signal yet"; exit 0; fi
done
f=/tmp/keepalived.json
if command -v flock >/dev/null 2>&1 && exec 9>>/tmp/.hactl-keepalived.lock 2>/dev/null; then flock -w 3 9 2>/dev/null; fi
rm -f "$f" 2>/dev/null
if ! kill -"$sig" "$main" 2>/dev/null; then
  echo "@@hactl:keepalived-error cannot signal keepalived (pid $main) for its JSON dump as $(id -un): run hactl as root or with --sudo"
  exit 0
fi
i=0
while [ $i -lt 40 ]; do
  if [ -s "$f" ] && tail -c 2 "$f" | grep -q ']'; then break; fi
  sleep 0.025; i=$((i+1))
done
if [ ! -r "$f" ]; then echo "@@hactl:keepalived-error no JSON dump in $f after 1s (keepalived with PrivateTmp, or data_use_instance?)"; exit 0; fi
echo "@@hactl:keepalived-json"
cat "$f"
echo
`

// addrProbe prints the node's addresses as iproute2 JSON.
const addrProbe = `echo "@@hactl:addr"; ip -j addr show 2>&1 || echo "@@hactl:addr-error ip -j addr show failed"
`

// probeResult is what the probe scripts found.
type probeResult struct {
	addrOut    []byte
	addrErr    string
	keepalived bool
	mainPID    int
	version    string
	jsonOut    []byte
	jsonErr    string
}

// parseProbe splits the scripts' output at the marker lines.
func parseProbe(out []byte) probeResult {
	var r probeResult
	var section *[]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "@@hactl:")
		if !ok {
			if section != nil {
				*section = append(append(*section, line...), '\n')
			}
			continue
		}
		word, arg, _ := strings.Cut(rest, " ")
		section = nil
		switch word {
		case "addr":
			section = &r.addrOut
		case "addr-error":
			r.addrErr = arg
		case "keepalived":
			r.keepalived = true
			if f := strings.Fields(arg); len(f) > 0 {
				r.mainPID, _ = strconv.Atoi(f[0])
			}
		case "keepalived-version":
			r.version = keepalivedVersion(arg)
		case "keepalived-json":
			section = &r.jsonOut
		case "keepalived-error":
			r.jsonErr = arg
		}
	}
	return r
}

// keepalivedVersion reads "Keepalived v2.2.7 (01/16,2022)" as "2.2.7".
func keepalivedVersion(line string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "v"); ok && v != "" && v[0] >= '0' && v[0] <= '9' {
			return v
		}
	}
	return strings.TrimSpace(line)
}

// keepalivedDaemon builds the Daemon of a node where the probe found
// keepalived (nil when it found none).
func (r probeResult) keepalivedDaemon() *Daemon {
	if !r.keepalived {
		return nil
	}
	d := &Daemon{Kind: DaemonKeepalived, Version: r.version, PID: r.mainPID, Instances: []Instance{}}
	if len(bytes.TrimSpace(r.jsonOut)) > 0 {
		ins, err := ParseKeepalivedJSON(r.jsonOut)
		if err == nil {
			d.Instances, d.StateSource = ins, SourceKeepalivedJSON
			return d
		}
		r.jsonErr = err.Error()
	}
	d.StateSource = SourceInferred
	d.Note = "state inferred from the addresses held: " + r.jsonErr
	return d
}
