package api

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestClientEvents: the stream's events in order, then io.EOF when the
// daemon ends it; a refusal is the daemon's error; a line that is not an
// event, or is over MaxEventBytes, is an ErrBadAnswer.
func TestClientEvents(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	ok := fakeSocket(t, true, answer(head+
		`{"seq":1,"type":"INSTANCE","name":"VI_1","state":"MASTER","priority":200,"line":"INSTANCE \"VI_1\" MASTER 200"}`+"\n"+
		`{"type":"dropped","dropped":3}`+"\n"))
	st, err := NewUnixClient(ok).Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := st.Next()
	if err != nil || ev.Seq != 1 || ev.Line != `INSTANCE "VI_1" MASTER 200` || ev.Priority != 200 {
		t.Errorf("first: %+v %v", ev, err)
	}
	if ev, err := st.Next(); err != nil || ev.Type != EventDropped || ev.Dropped != 3 {
		t.Errorf("second: %+v %v", ev, err)
	}
	if _, err := st.Next(); err != io.EOF {
		t.Errorf("end: %v, want EOF", err)
	}
	st.Close()

	refused := fakeSocket(t, true, reply("503 Service Unavailable", `{"status":503,"code":"unavailable","error":"too many event subscribers"}`))
	var e *Error
	if _, err := NewUnixClient(refused).Events(ctx); !errors.As(err, &e) || e.Status != 503 {
		t.Errorf("refused: %v", err)
	}

	for name, body := range map[string]string{
		"garbage":  "not json\n",
		"too long": `{"name":"` + strings.Repeat("x", MaxEventBytes) + `"}` + "\n",
	} {
		st, err := NewUnixClient(fakeSocket(t, true, answer(head+body))).Events(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := st.Next(); !errors.Is(err, ErrBadAnswer) {
			t.Errorf("%s: %v, want ErrBadAnswer", name, err)
		}
		st.Close()
	}
}
