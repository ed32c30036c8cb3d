// Package version carries the build's version and commit, set at link time
// by the Makefile through -ldflags -X, with the module's build info as the
// fallback so that `go install` builds still say something useful.
package version

import (
	"runtime"
	"runtime/debug"
)

// These are overwritten by -ldflags "-X github.com/hactl/hactl/pkg/version.Version=...".
var (
	// Version is the release version, e.g. v0.1.0, or "dev".
	Version = "dev"
	// Commit is the git commit the binary was built from.
	Commit = ""
)

// Info describes this build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the build's version information.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info.Commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Commit = s.Value
				}
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}
