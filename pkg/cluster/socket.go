package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hactl/hactl/pkg/api"
	"github.com/hactl/hactl/pkg/remote"
)

// socketFault says what a failed GET /v1/status on a node's control socket
// means. nil: the socket could not be opened (nothing listens there, the
// dial was refused, sshd does not forward it), so the node runs no hactl
// daemon and the caller looks for keepalived. An error: a hactl socket was
// there but its answer is unusable (none before the deadline, endless, too
// big, garbage, or a server error such as the 503 of a daemon whose VRRP
// loop does not answer), and the node could not be asked. A refusal (4xx)
// is neither: the caller notes it on a hactl daemon of unknown instances.
// limit, when set, is the call's time limit, for the message.
func socketFault(ctx context.Context, socket string, serr error, limit time.Duration) error {
	timedOut := ctx.Err() != nil || errors.Is(serr, context.DeadlineExceeded) || errors.Is(serr, remote.ErrTimeout)
	var ae *api.Error
	switch {
	case api.IsDialError(serr) && !timedOut:
		return nil
	case errors.As(serr, &ae) && ae.Status < 500:
		return nil
	case errors.As(serr, &ae):
		return fmt.Errorf("control socket %s: the daemon answers with an error: %w", socket, ae)
	case api.IsDialError(serr):
		return serr // pkg/remote's own message, which names the socket
	case timedOut && limit > 0:
		return fmt.Errorf("control socket %s: no answer within %s: %w", socket, limit, serr)
	case timedOut:
		return fmt.Errorf("control socket %s: no answer in time: %w", socket, serr)
	}
	return fmt.Errorf("control socket %s: %w", socket, serr)
}

// refusedNote is the note of a hactl daemon that answered with a refusal
// (4xx); "" when serr is not one.
func refusedNote(socket string, serr error) string {
	var ae *api.Error
	if errors.As(serr, &ae) && ae.Status < 500 {
		return "control socket " + socket + ": " + ae.Error()
	}
	return ""
}
