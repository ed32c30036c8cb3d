package cli

import "github.com/hactl/hactl/pkg/netlab"

// The lab's daemon plumbing (pkg/netlab/supervise.go, daemonctl.go), for
// the end-to-end tests (package cli_test).
var (
	WriteLabScripts = (*netlab.Lab).WriteDaemonScripts
	LabSupervise    = netlab.SuperviseArgv
	LabKeepalived   = netlab.KeepalivedArgv
	LabDaemonctl    = (*netlab.Lab).Daemonctl
)
