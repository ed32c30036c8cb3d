package cli

import (
	"strings"
	"testing"
)

func TestVersionFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{args: nil},
		{args: []string{"extra"}, wantErr: `unknown command "extra"`},
		{args: []string{"--short"}, wantErr: "unknown flag: --short"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			io, _, _ := TestStreams()
			f := NewFactory(io, func(string) string { return "" })
			var got *VersionOptions
			err := execFlags(t, newCmdVersion(f, func(o *VersionOptions) error { got = o; return nil }), tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || got != nil {
					t.Fatalf("err %v (ran: %v), want %q", err, got != nil, tc.wantErr)
				}
				return
			}
			if err != nil || got == nil || got.IO != f.IO || got.Global != f.Global {
				t.Fatalf("err %v, options %+v", err, got)
			}
		})
	}
}
