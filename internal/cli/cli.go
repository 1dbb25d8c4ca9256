// Package cli holds what the command-line tools share: a compact slog
// handler for terminal output.
package cli

import (
	"io"
	"log/slog"
)

// Logger returns a text logger without timestamps writing to w (usually
// os.Stderr), so that an error is one short line:
// level=ERROR msg="..." file=x.png err="...".
func Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
}
