package watch

import (
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/pkg/vrrp"
)

// Used returns the VRIDs heard for family, ascending. A VRID counts as used
// when any packet carried it in a VRRPv2 or v3 header, valid or not: a
// router whose adverts fail validation (a wrong checksum, an old keepalived)
// still uses its VRID.
func (t *Table) Used(f vrrp.Family) []int {
	var out []int
	if u := t.used[f]; u != nil {
		for id := 1; id <= 255; id++ {
			if u[id] {
				out = append(out, id)
			}
		}
	}
	return out
}

// Free returns the VRIDs (1–255) nobody was heard using for family,
// ascending.
func (t *Table) Free(f vrrp.Family) []int {
	u := t.used[f]
	out := make([]int, 0, 255)
	for id := 1; id <= 255; id++ {
		if u == nil || !u[id] {
			out = append(out, id)
		}
	}
	return out
}

// MaxInterval returns the longest advertisement interval heard in a valid
// packet, 0 if none: how long a listener must wait to have heard every
// router at least once is a few of these.
func (t *Table) MaxInterval() time.Duration {
	var d time.Duration
	for _, r := range t.rows {
		if r.valid && r.Interval > d {
			d = r.Interval
		}
	}
	return d
}

// Ranges formats ascending integers as ranges: "1-59,61-255"; "" for none.
func Ranges(ids []int) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ids[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(ids[j]))
		}
		i = j + 1
	}
	return b.String()
}
