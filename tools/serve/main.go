// Command serve is the development web server for the in-browser classifier:
// it serves the www folder with the MIME types, compression and caching
// headers that the page, its Web Worker and its service worker expect.
//
//	go run ./tools/serve                       # http://127.0.0.1:8080/
//	go run ./tools/serve -addr 127.0.0.1:0     # any free port, logged at start
//	go run ./tools/serve -write-manifest       # write www/models/models.json and exit
//
// Service workers, Cache Storage and crypto.subtle exist only in secure
// contexts, which for plain HTTP means a loopback address (127.0.0.1,
// localhost or [::1]). Served from any other address, the page still
// classifies but cannot work offline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// shutdownTimeout bounds how long a graceful stop waits for open requests.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen `address` (host:port); port 0 picks a free port")
	dir := flags.String("dir", "www", "`folder` to serve")
	writeOnly := flags.Bool("write-manifest", false, "write DIR/models/models.json from the model folders under DIR/models, then exit")
	defaults := flags.String("default-model", strings.Join(defaultModelPreference, ","), "comma-separated model `ids`; the first one present becomes the page's default model")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "serve takes no arguments, got %q\n", flags.Args())
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	if info, err := os.Stat(*dir); err != nil || !info.IsDir() {
		log.Error("folder to serve not found", "dir", *dir, "err", err)
		return 1
	}

	if *writeOnly {
		modelsDir := filepath.Join(*dir, "models")
		models, err := WriteManifest(modelsDir, splitList(*defaults))
		if err != nil {
			log.Error("cannot write model manifest", "dir", modelsDir, "err", err)
			return 1
		}
		for _, m := range models {
			log.Info("listed model", "id", m.ID, "bytes", m.Bytes, "files", len(m.Files), "default", m.Default)
		}
		return 0
	}

	if err := serve(ctx, *addr, *dir, log); err != nil {
		log.Error("server failed", "addr", *addr, "err", err)
		return 1
	}
	return 0
}

// serve listens on addr and serves dir until ctx is cancelled, then stops
// accepting connections and waits up to shutdownTimeout for open requests.
func serve(ctx context.Context, addr, dir string, log *slog.Logger) error {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	server := &http.Server{
		Handler:           logRequests(NewHandler(dir, log), log),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	bound := listener.Addr().(*net.TCPAddr)
	url := "http://" + net.JoinHostPort(bound.IP.String(), fmt.Sprint(bound.Port)) + "/"
	if bound.IP.IsUnspecified() {
		url = fmt.Sprintf("http://127.0.0.1:%d/", bound.Port)
	}
	log.Info("serving", "dir", dir, "addr", bound.String(), "url", url)
	if !bound.IP.IsLoopback() && !bound.IP.IsUnspecified() {
		log.Warn("browsers allow service workers only on https or loopback addresses, so the page cannot work offline from this address", "addr", bound.String())
	}

	errc := make(chan error, 1)
	go func() { errc <- server.Serve(listener) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("stopping", "reason", context.Cause(ctx))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		log.Warn("open connections closed before their requests finished", "err", err)
		server.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
