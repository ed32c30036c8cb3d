package cli

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
)

// CompletionOptions are the inputs of `hactl completion`.
type CompletionOptions struct {
	IO    *IOStreams
	Shell string
	// Root is the command tree the script completes.
	Root *cobra.Command
}

func newCmdCompletion(f *Factory, runF func(*CompletionOptions) error) *cobra.Command {
	opts := &CompletionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell. Node names complete from the
inventory (--to <TAB>, --nodes <TAB>), clusters from --cluster <TAB>.
Packaged scripts are in completions/ of the source tree.`,
		Example: `  # bash, for this shell only
  source <(hactl completion bash)

  # bash, for every shell
  hactl completion bash > /etc/bash_completion.d/hactl

  # zsh
  hactl completion zsh > "${fpath[1]}/_hactl"

  # fish
  hactl completion fish > ~/.config/fish/completions/hactl.fish

  # PowerShell
  hactl completion powershell | Out-String | Invoke-Expression`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell, opts.Root = args[0], cmd.Root()
			if !slices.Contains(cmd.ValidArgs, opts.Shell) {
				return fmt.Errorf("unknown shell %q: want bash, zsh, fish or powershell", opts.Shell)
			}
			if runF != nil {
				return runF(opts)
			}
			return runCompletion(opts)
		},
	}
}

func runCompletion(opts *CompletionOptions) error {
	root, out := opts.Root, opts.IO.Out
	switch opts.Shell {
	case "bash":
		return root.GenBashCompletionV2(out, true)
	case "zsh":
		return root.GenZshCompletion(out)
	case "fish":
		return root.GenFishCompletion(out, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(out)
	}
	return fmt.Errorf("unknown shell %q: want bash, zsh, fish or powershell", opts.Shell)
}
