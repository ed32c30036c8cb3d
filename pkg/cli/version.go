package cli

import (
	"encoding/json"
	"fmt"

	"github.com/hactl/hactl/pkg/version"
	"github.com/spf13/cobra"
)

func newCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print version, commit and Go version",
		Example: "  hactl version\n  hactl version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			if f.Global.JSON() {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			_, err := fmt.Fprintf(f.IO.Out, "hactl %s\ncommit: %s\ngo: %s\nplatform: %s\n", info.Version, info.Commit, info.GoVersion, info.Platform)
			return err
		},
	}
}
