package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxEventBytes bounds one line of the event stream.
const MaxEventBytes = 64 << 10

// EventStream is an open GET /v1/events.
type EventStream struct {
	body io.ReadCloser
	sc   *bufio.Scanner
}

// Events opens the daemon's event stream. It lasts until ctx ends, Close
// is called or the daemon stops (then Next returns io.EOF); give ctx no
// deadline to follow the daemon for good.
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathEvents, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, callError(http.MethodGet, PathEvents, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, err := readAnswer(resp.Body, MaxAnswerBytes)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", PathEvents, err)
		}
		return nil, decodeError(resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), MaxEventBytes)
	return &EventStream{body: resp.Body, sc: sc}, nil
}

// Next reads the next event, waiting for it; io.EOF when the daemon
// ended the stream.
func (s *EventStream) Next() (Event, error) {
	if !s.sc.Scan() {
		if err := s.sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return Event{}, fmt.Errorf("GET %s: %w: a line over %d bytes", PathEvents, ErrBadAnswer, MaxEventBytes)
			}
			return Event{}, fmt.Errorf("GET %s: %w", PathEvents, err)
		}
		return Event{}, io.EOF
	}
	var ev Event
	if err := json.Unmarshal(s.sc.Bytes(), &ev); err != nil {
		return Event{}, fmt.Errorf("GET %s: %w: %v", PathEvents, ErrBadAnswer, err)
	}
	return ev, nil
}

// Close ends the stream.
func (s *EventStream) Close() error { return s.body.Close() }
