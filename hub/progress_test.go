package hub

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// newTestProgressBar returns a ProgressBar whose clock advances only through
// the returned function.
func newTestProgressBar(out *bytes.Buffer) (*ProgressBar, func(time.Duration)) {
	bar := NewProgressBar(out)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	bar.now = func() time.Time { return now }
	return bar, func(d time.Duration) { now = now.Add(d) }
}

func TestProgressBarThrottles(t *testing.T) {
	var out bytes.Buffer
	bar, advance := newTestProgressBar(&out)

	bar.Update("model.safetensors", 0, 100_000_000)
	for i := 1; i < 100; i++ {
		advance(10 * time.Millisecond)
		bar.Update("model.safetensors", int64(i)*1_000_000, 100_000_000)
	}

	// 100 updates over 990 ms at a 100 ms interval: the first draw, then
	// one every 10 updates.
	if draws := strings.Count(out.String(), "\r"); draws != 10 {
		t.Errorf("drew %d times, want 10:\n%q", draws, out.String())
	}
	if strings.Contains(out.String(), "\n") {
		t.Errorf("unfinished transfer ended the line:\n%q", out.String())
	}
}

func TestProgressBarLine(t *testing.T) {
	var out bytes.Buffer
	bar, advance := newTestProgressBar(&out)

	bar.Update("model.safetensors", 0, 50_000_000)
	advance(2 * time.Second)
	bar.Update("model.safetensors", 20_000_000, 50_000_000)

	lines := strings.Split(out.String(), "\r")
	last := lines[len(lines)-1]
	for _, part := range []string{"model.safetensors", "20.0 / 50.0 MB", "40%", "10.0 MB/s"} {
		if !strings.Contains(last, part) {
			t.Errorf("line %q does not contain %q", last, part)
		}
	}
}

func TestProgressBarFinalUpdate(t *testing.T) {
	var out bytes.Buffer
	bar, advance := newTestProgressBar(&out)

	bar.Update("config.json", 0, 4_000_000)
	advance(time.Millisecond)
	bar.Update("config.json", 4_000_000, 4_000_000)

	if !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("final update did not end the line: %q", out.String())
	}
	if !strings.Contains(out.String(), "100%") {
		t.Errorf("final update does not show 100%%: %q", out.String())
	}

	// The next file starts a new line and a new rate measurement.
	out.Reset()
	bar.Update("model.safetensors", 0, 10)
	if out.Len() == 0 || strings.Contains(out.String(), "MB/s") {
		t.Errorf("first update of the next file = %q, want a drawn line without a rate", out.String())
	}
}

func TestProgressBarResumedRate(t *testing.T) {
	var out bytes.Buffer
	bar, advance := newTestProgressBar(&out)

	// A resumed transfer starts at 80 MB; only the 10 MB received in the
	// following second count for the rate.
	bar.Update("model.safetensors", 80_000_000, 100_000_000)
	advance(time.Second)
	bar.Update("model.safetensors", 90_000_000, 100_000_000)

	if !strings.Contains(out.String(), "10.0 MB/s") {
		t.Errorf("output %q does not show 10.0 MB/s", out.String())
	}
}

func TestProgressBarUnknownTotal(t *testing.T) {
	var out bytes.Buffer
	bar, _ := newTestProgressBar(&out)

	bar.Update("stream.bin", 3_000_000, -1)

	if !strings.Contains(out.String(), "3.0 MB") || strings.Contains(out.String(), "%") {
		t.Errorf("output %q, want the size without a percentage", out.String())
	}
}

func TestProgressBarBlanksShorterLine(t *testing.T) {
	var out bytes.Buffer
	bar, _ := newTestProgressBar(&out)

	bar.Update("a-rather-long-file-name.safetensors", 0, 100)
	bar.Update("x", 0, 100)

	draws := strings.Split(out.String(), "\r")
	first, second := draws[1], draws[2]
	if len(second) < len(first) {
		t.Errorf("second line %q is shorter than the first %q, so the old text stays visible", second, first)
	}
}

func TestProgressBarDuringDownload(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "model.safetensors", lfsFile(testContent(2_000_000)))
	c := f.client()
	var out bytes.Buffer
	c.Progress = NewProgressBar(&out).Update

	if _, err := c.Download(t.Context(), testRepo, "main", "model.safetensors"); err != nil {
		t.Fatalf("Download: %v", err)
	}

	if !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("output does not end the line: %q", out.String())
	}
	if !strings.Contains(out.String(), "2.0 / 2.0 MB  100%") {
		t.Errorf("output %q lacks the final 100%% line", out.String())
	}
}
