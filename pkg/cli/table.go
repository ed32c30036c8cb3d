package cli

import (
	"bytes"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// table is a tablewriter table in the plain style of kubectl and docker: no
// borders, columns separated by spaces, headers as written, no trailing
// blanks. It is easy to read and easy to cut with awk.
type table struct {
	out io.Writer
	buf bytes.Buffer
	t   *tablewriter.Table
}

func newTable(w io.Writer, header ...string) *table {
	tb := &table{out: w}
	tb.t = tablewriter.NewTable(&tb.buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
	)
	tb.t.Header(header)
	return tb
}

// Append adds a row.
func (tb *table) Append(cells ...string) error { return tb.t.Append(cells) }

// Render writes the table.
func (tb *table) Render() error {
	if err := tb.t.Render(); err != nil {
		return err
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(tb.buf.String(), "\n") {
		if line == "" {
			continue
		}
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(tb.out, out.String())
	return err
}
