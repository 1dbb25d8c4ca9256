package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that the server goroutine and the test can
// use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServeStopsOnCancel(t *testing.T) {
	dir, files := siteFiles(t)
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, "127.0.0.1:0", dir, slog.New(slog.NewTextHandler(&logs, nil))) }()

	urlPattern := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := urlPattern.FindStringSubmatch(logs.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("no URL logged:\n%s", logs.String())
	}

	resp, err := http.Get(url + "app.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, files["app.js"]) {
		t.Errorf("served app.js differs from the file")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	for _, want := range []string{"msg=stopping", "msg=stopped", "path=/app.js"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(strings.TrimSuffix(url, "/"), "http://"), time.Second); err == nil {
		t.Error("the port still accepts connections after the stop")
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	cases := map[string][]string{
		"missing folder":  {"-dir", t.TempDir() + "/missing"},
		"extra argument":  {"www", "extra"},
		"unknown flag":    {"-port", "80"},
		"address in use?": {"-dir", t.TempDir(), "-addr", "256.0.0.1:0"},
	}
	for name, args := range cases {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &stderr); code == 0 {
			t.Errorf("%s: run(%q) exited 0, want an error", name, args)
		} else if stderr.Len() == 0 {
			t.Errorf("%s: run(%q) printed no message", name, args)
		}
	}
}
