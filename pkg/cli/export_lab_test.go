package cli

// The lab's daemon plumbing, for the end-to-end tests (package cli_test).
var (
	WriteLabScripts = writeLabScripts
	LabSupervise    = labSupervise
	LabKeepalived   = labKeepalived
	LabDaemonctl    = labDaemonctl
)
