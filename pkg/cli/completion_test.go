package cli

import (
	"strings"
	"testing"
)

func TestCompletionFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{args: []string{"bash"}, want: "bash"},
		{args: []string{"zsh"}, want: "zsh"},
		{args: []string{"fish"}, want: "fish"},
		{args: []string{"powershell"}, want: "powershell"},
		{args: []string{"tcsh"}, wantErr: `unknown shell "tcsh": want bash, zsh, fish or powershell`},
		{args: nil, wantErr: "accepts 1 arg(s), received 0"},
		{args: []string{"bash", "zsh"}, wantErr: "accepts 1 arg(s), received 2"},
		{args: []string{"bash", "--bogus"}, wantErr: "unknown flag: --bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			io, _, _ := TestStreams()
			var got *CompletionOptions
			cmd := newCmdCompletion(NewFactory(io, func(string) string { return "" }), func(o *CompletionOptions) error { got = o; return nil })
			err := execFlags(t, cmd, tc.args...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || got != nil {
					t.Fatalf("err %v (ran: %v), want %q", err, got != nil, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Shell != tc.want || got.Root != cmd.Root() || got.IO != io {
				t.Errorf("options %+v, want shell %s of the command's root", got, tc.want)
			}
		})
	}
}
