// Command hactl is a keepalived-compatible VRRP daemon and the operator
// commands that answer "who owns the VIP?" and move it safely.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hactl/hactl/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.SystemStreams(), os.Args[1:])
	stop()
	os.Exit(code)
}
