package cli

import (
	"encoding/json"
	"fmt"

	"github.com/hactl/hactl/pkg/version"
	"github.com/spf13/cobra"
)

// VersionOptions are the inputs of `hactl version`.
type VersionOptions struct {
	IO     *IOStreams
	Global *GlobalOptions
}

func newCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: f.IO, Global: f.Global}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print version, commit and Go version",
		Example: "  hactl version\n  hactl version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
}

func runVersion(opts *VersionOptions) error {
	info := version.Get()
	if opts.Global.JSON() {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := fmt.Fprintf(opts.IO.Out, "hactl %s\ncommit: %s\ngo: %s\nplatform: %s\n", info.Version, info.Commit, info.GoVersion, info.Platform)
	return err
}
