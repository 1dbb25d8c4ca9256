package hub

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// DefaultProgressInterval is the minimum time between two redraws of a
// ProgressBar, which gives about 10 updates per second.
const DefaultProgressInterval = 100 * time.Millisecond

// ProgressBar is a one-line text progress display for Client.Progress. It
// shows the file name, the megabytes (10^6 bytes) on disk and in total, the
// percentage and the transfer rate, and redraws the line in place with '\r'.
// It is safe for concurrent use, but concurrent downloads overwrite each
// other's line.
type ProgressBar struct {
	w        io.Writer
	interval time.Duration
	now      func() time.Time

	mu        sync.Mutex
	file      string
	started   time.Time // first update of the current transfer
	startDone int64     // bytes on disk at started, excluded from the rate
	lastDone  int64
	lastDraw  time.Time
	lastWidth int // characters in the line drawn last, for blanking
	finished  bool
}

// NewProgressBar returns a ProgressBar that writes to w, usually os.Stderr:
//
//	client.Progress = hub.NewProgressBar(os.Stderr).Update
func NewProgressBar(w io.Writer) *ProgressBar {
	return &ProgressBar{w: w, interval: DefaultProgressInterval, now: time.Now}
}

// Update redraws the line for file with done of total bytes, or done bytes of
// an unknown total when total is negative. It skips redraws that come sooner
// than DefaultProgressInterval after the previous one, except for the first
// update of a file and for the final one (done == total), after which it ends
// the line with a newline. Write errors are ignored.
func (p *ProgressBar) Update(file string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()

	now := p.now()
	// A new file, or fewer bytes than before (a restarted transfer), starts
	// a new rate measurement.
	newTransfer := file != p.file || done < p.lastDone || p.finished
	if newTransfer {
		p.file = file
		p.started = now
		p.startDone = done
		p.finished = false
	}
	p.lastDone = done

	final := total >= 0 && done == total
	if !newTransfer && !final && now.Sub(p.lastDraw) < p.interval {
		return
	}
	p.lastDraw = now

	line := p.format(file, done, total, now)
	padding := ""
	if len(line) < p.lastWidth {
		padding = strings.Repeat(" ", p.lastWidth-len(line))
	}
	p.lastWidth = len(line)
	end := ""
	if final {
		end = "\n"
		p.finished = true
		p.lastWidth = 0
	}
	fmt.Fprintf(p.w, "\r%s%s%s", line, padding, end)
}

func (p *ProgressBar) format(file string, done, total int64, now time.Time) string {
	var b strings.Builder
	b.WriteString(file)
	if total >= 0 {
		percent := 100.0
		if total > 0 {
			percent = 100 * float64(done) / float64(total)
		}
		fmt.Fprintf(&b, "  %.1f / %.1f MB  %3.0f%%", megabytes(done), megabytes(total), percent)
	} else {
		fmt.Fprintf(&b, "  %.1f MB", megabytes(done))
	}

	elapsed := now.Sub(p.started).Seconds()
	if elapsed > 0 && done > p.startDone {
		fmt.Fprintf(&b, "  %.1f MB/s", megabytes(done-p.startDone)/elapsed)
	}
	return b.String()
}

func megabytes(n int64) float64 { return float64(n) / 1e6 }
