package cli

import (
	"os"
	"strings"

	"github.com/hactl/hactl/pkg/inventory"
	"github.com/spf13/cobra"
)

// loadInventory finds and parses the inventory named by --inventory (or
// HACTL_INVENTORY, or the default paths).
func (f *Factory) loadInventory() (*inventory.Inventory, error) {
	home, _ := os.UserHomeDir()
	path, err := inventory.Find(f.Global.Inventory, home)
	if err != nil {
		return nil, err
	}
	return inventory.Load(path)
}

// inventoryNodeNames lists the node names of the selected cluster; errors
// yield nothing, since completion must never fail loudly.
func (f *Factory) inventoryNodeNames() []string {
	inv, err := f.loadInventory()
	if err != nil {
		return nil
	}
	c, err := inv.Select(f.Global.Cluster)
	if err != nil {
		return nil
	}
	return c.NodeNames()
}

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// completeNodes completes one node name from the inventory (--to <TAB>).
func completeNodes(f *Factory) completeFunc {
	return func(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return f.inventoryNodeNames(), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNodeList completes a comma-separated list of nodes (--nodes
// a,b,<TAB>), offering the names not yet listed.
func completeNodeList(f *Factory) completeFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		prefix := ""
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			prefix = toComplete[:i+1]
		}
		used := map[string]bool{}
		for _, n := range strings.Split(prefix, ",") {
			used[n] = true
		}
		var out []string
		for _, n := range f.inventoryNodeNames() {
			if !used[n] {
				out = append(out, prefix+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// completeClusters completes --cluster from the inventory.
func completeClusters(f *Factory) completeFunc {
	return func(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		inv, err := f.loadInventory()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return inv.Names(), cobra.ShellCompDirectiveNoFileComp
	}
}
