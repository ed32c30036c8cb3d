package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is a whole benchmark run.
type Report struct {
	Machine string `json:"machine"`
	Started string `json:"started"`
	Rows    []*Row `json:"rows"`
}

// WriteTable prints the report as a plain table.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%s\n%s\n\n", r.Machine, r.Started)
	width := 0
	for _, row := range r.Rows {
		width = max(width, len(row.Name))
	}
	fmt.Fprintf(w, "%-*s  %12s  %12s  %8s  %12s  %s\n", width, "MEASURE (median)", "HACTL", "RIVAL", "RATIO", "BOUND", "TRIALS")
	for _, row := range r.Rows {
		bound := "-"
		if row.Bound > 0 {
			bound = fmt.Sprintf("%.1f %s", row.Bound, row.Unit)
		}
		if row.SpeedupTarget > 0 {
			bound = fmt.Sprintf(">=%gx (%gx)", row.SpeedupTarget, row.SpeedupMust)
		}
		ratio := fmt.Sprintf("%.2f", row.Ratio)
		if row.Median[row.Rival] == 0 {
			ratio = "-" // no rival figure, or a rival median of 0 (lost probes)
		}
		if row.Speedup > 0 {
			ratio = fmt.Sprintf("%.1fx", row.Speedup) // hactl is this many times faster
		}
		fmt.Fprintf(w, "%-*s  %12s  %12s  %8s  %12s  %d/%d\n", width, row.Name,
			value(row, "hactl"), value(row, row.Rival),
			ratio, bound, len(row.Trials["hactl"]), len(row.Trials[row.Rival]))
	}
	for _, row := range r.Rows {
		if row.Speedup > 0 {
			fmt.Fprintf(w, "\nRATIO is hactl / rival; NNx is the rival / hactl (hactl NN times faster), BOUND then the issue's target (and must).\n")
			break
		}
	}
}

// value is a daemon's median with its unit, "-" when it has no trials
// (a median of 0, such as no lost probes, prints as 0).
func value(row *Row, daemon string) string {
	if len(row.Trials[daemon]) == 0 {
		return "-"
	}
	return strings.TrimSpace(fmt.Sprintf("%.1f %s", row.Median[daemon], row.Unit))
}

// JSON renders the report.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

// Row is one line of the table: a measurement for every daemon.
type Row struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
	// Bound is the protocol's bound in Unit, 0 when there is none.
	Bound float64 `json:"bound"`
	// Trials holds every trial's value per daemon; Median their median.
	Trials map[string][]float64 `json:"trials"`
	Median map[string]float64   `json:"median"`
	// Ratio is hactl's median over the rival's.
	Ratio float64 `json:"ratio"`
	// Rival is what hactl is compared with: "keepalived" unless said.
	Rival string `json:"rival"`
	// Speedup is the rival's median over hactl's (how many times faster
	// hactl is), for the rows that have a speedup target (0 otherwise);
	// SpeedupTarget and SpeedupMust are the target and the least
	// it must reach.
	Speedup       float64 `json:"speedup,omitempty"`
	SpeedupTarget float64 `json:"speedup_target,omitempty"`
	SpeedupMust   float64 `json:"speedup_must,omitempty"`
}

// setSpeedup fills in Speedup and its targets, after finish.
func (r *Row) setSpeedup(target, must float64) {
	r.SpeedupTarget, r.SpeedupMust = target, must
	if h := r.Median["hactl"]; h > 0 {
		r.Speedup = r.Median[r.Rival] / h
	}
}

func (r *Row) finish() {
	r.Median = map[string]float64{}
	for d, v := range r.Trials {
		r.Median[d] = median(v)
	}
	if r.Rival == "" {
		r.Rival = "keepalived"
	}
	if k := r.Median[r.Rival]; k > 0 {
		r.Ratio = r.Median["hactl"] / k
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
