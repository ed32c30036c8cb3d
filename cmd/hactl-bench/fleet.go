//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/hactl/hactl/pkg/bench"
	"github.com/hactl/hactl/pkg/netlab"
)

// fleet holds the flags of the fleet and scale groups.
var fleet struct {
	nodes, runs     int
	scale, parallel string
	kex             string
}

// fleetRows measures who-owns against parallel OpenSSH on a lab of
// fleet.nodes nodes with cheap login shells, plain nodes first, then the
// same nodes running hactl daemons.
func fleetRows(ctx context.Context, bin string, log io.Writer) ([]*bench.Row, error) {
	rivals, err := fleetRivals(fleet.kex)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "measuring who-owns over %d nodes (plain, then hactl daemons) against xargs -P %d ssh (%d runs each)...\n", fleet.nodes, fleet.nodes, fleet.runs)
	l, err := netlab.Up(ctx, netlab.Config{Name: "benchfleet", Nodes: fleet.nodes, SSH: true, CheapShell: true})
	if err != nil {
		return nil, err
	}
	defer l.Down()
	var rows []*bench.Row
	for _, shape := range []string{bench.ShapePlain, bench.ShapeDaemon} {
		r, err := bench.WhoOwnsFleet(ctx, l, bench.FleetSpec{Bin: bin, Shape: shape, Runs: fleet.runs, Rivals: rivals, Log: log})
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// scaleRows measures who-owns over in-process SSH fleets of the sizes in
// fleet.scale: nodes with daemons (the control API), then plain nodes
// (the probe command only), each against xargs -P ssh over the same nodes.
func scaleRows(ctx context.Context, bin string, log io.Writer) ([]*bench.Row, error) {
	var sizes []int
	for _, f := range strings.Split(fleet.scale, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-scale %q: want sizes like 16,32,64", fleet.scale)
		}
		sizes = append(sizes, n)
	}
	fmt.Fprintf(os.Stderr, "measuring who-owns over in-process SSH fleets of %v nodes, with daemons then plain (%d runs each)...\n", sizes, fleet.runs)
	var rows []*bench.Row
	for _, plain := range []bool{false, true} {
		r, err := bench.Scale(ctx, bench.ScaleSpec{Bin: bin, Sizes: sizes, Runs: fleet.runs, Parallel: fleet.parallel, Plain: plain, Rival: true, Log: log})
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// fleetRivals reads -fleet-kex: "both" (the default), "default" (OpenSSH's
// own key exchange) or "same" (held to hactl's, bench.FleetKex).
func fleetRivals(v string) ([]string, error) {
	switch v {
	case "both", "":
		return []string{bench.KexDefault, bench.FleetKex}, nil
	case "default":
		return []string{bench.KexDefault}, nil
	case "same":
		return []string{bench.FleetKex}, nil
	}
	return nil, fmt.Errorf("-fleet-kex %q: want both, default or same", v)
}
