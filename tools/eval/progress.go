package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws "[#####.....]  1200/10000  91.2% top-1  850 img/s  ETA 10s"
// on one line, redrawn at most ten times a second.
type progressBar struct {
	w        io.Writer
	total    int
	done     int
	start    time.Time
	lastDraw time.Time
}

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: total, start: time.Now()}
}

// add records n more images; correct is the running count of top-1 hits.
func (p *progressBar) add(n int, correct float64) {
	p.done += n
	now := time.Now()
	if now.Sub(p.lastDraw) < 100*time.Millisecond && p.done < p.total {
		return
	}
	p.lastDraw = now
	const width = 30
	filled := width * p.done / p.total
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(p.done) / max(elapsed, 1e-9)
	eta := time.Duration(float64(p.total-p.done)/max(rate, 1e-9)) * time.Second
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %.2f%% top-1  %.1f img/s  ETA %s   ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		p.done, p.total, 100*correct/float64(p.done), rate, eta.Round(time.Second))
}

func (p *progressBar) finish() { fmt.Fprintln(p.w) }
