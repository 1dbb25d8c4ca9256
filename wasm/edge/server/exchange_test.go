package server

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// echoHandler responds with the body it read, or 413 after limit bytes.
func echoHandler(limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, err.Error())
		default:
			w.Header().Set("X-Length", "set")
			w.Write(data)
		}
	})
}

// waitDone waits for the handler, which runs on its own goroutine natively.
func waitDone(t *testing.T, e *Exchange) {
	t.Helper()
	finished := make(chan struct{})
	go func() {
		e.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return")
	}
}

func newRequest(method string) *http.Request {
	r, _ := http.NewRequest(method, "http://worker.test/echo", nil)
	return r
}

func TestExchangeDeliversChunks(t *testing.T) {
	e := StartExchange(echoHandler(100), newRequest(http.MethodPost))
	for _, chunk := range []string{"hello, ", "", "chunked ", "world"} {
		if !e.WriteBody([]byte(chunk)) {
			t.Fatalf("WriteBody(%q) returned false while the handler reads", chunk)
		}
	}
	e.EndBody(io.EOF)
	waitDone(t, e)
	status, header, body := e.Response()
	if status != http.StatusOK || string(body) != "hello, chunked world" || header.Get("X-Length") != "set" {
		t.Errorf("response %d %q %v", status, body, header)
	}
	if e.WriteBody([]byte("late")) {
		t.Error("WriteBody returned true after the handler returned")
	}
}

func TestExchangeStopsAtLimit(t *testing.T) {
	e := StartExchange(echoHandler(10), newRequest(http.MethodPost))
	e.WriteBody([]byte(strings.Repeat("x", 11)))
	waitDone(t, e)
	if status, _, _ := e.Response(); status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", status)
	}
	if e.WriteBody([]byte("more")) {
		t.Error("WriteBody accepted more body after the handler responded")
	}
}

func TestExchangeReadError(t *testing.T) {
	e := StartExchange(echoHandler(100), newRequest(http.MethodPost))
	e.WriteBody([]byte("partial"))
	e.EndBody(errors.New("connection reset"))
	waitDone(t, e)
	status, _, body := e.Response()
	if status != http.StatusBadRequest || string(body) != "connection reset" {
		t.Errorf("response %d %q, want 400 with the read error", status, body)
	}
}

func TestExchangeHeadDropsBody(t *testing.T) {
	e := StartExchange(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body")
	}), newRequest(http.MethodHead))
	e.EndBody(nil)
	waitDone(t, e)
	status, _, body := e.Response()
	if status != http.StatusOK || body != nil {
		t.Errorf("HEAD response %d %q, want 200 without a body", status, body)
	}
}

func TestExchangeResponseWithoutBody(t *testing.T) {
	e := StartExchange(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnsupportedMediaType)
	}), newRequest(http.MethodPost))
	waitDone(t, e)
	if !e.Done() {
		t.Error("Done is false after the handler returned")
	}
	if e.WriteBody([]byte("unread")) {
		t.Error("WriteBody returned true for a handler that responded without reading")
	}
	if status, _, _ := e.Response(); status != http.StatusUnsupportedMediaType {
		t.Errorf("status %d", status)
	}
}
