// Command bench measures load time, milliseconds per image and peak Go heap
// of one or more models, natively or as WebAssembly under Node:
//
//	go run ./tools/bench -model DIR [-model DIR2 ...] IMAGE...
//	GOOS=js GOARCH=wasm go build -o bench.wasm ./tools/bench
//	node "$(go env GOROOT)/lib/wasm/wasm_exec_node.js" bench.wasm -model DIR IMAGE...
//	go run ./tools/bench -chromium [-model DIR] [-runs N]
//
// With -chromium, the real page and its Web Worker are measured in headless
// Chromium (Debian's chromium with npm's playwright-core, after
// npm ci --prefix e2e), with the SIMD and the scalar WebAssembly builds. The
// default model there is a random model of the base geometry.
//
// Each model is measured in a fresh heap state: the previous model is
// dropped and collected first. With two or more models, the cosine
// similarity of each image's logits to the first model's is reported too,
// which is how int8 is compared with float32.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/d2vgo/d2v/classifier"
	"github.com/d2vgo/d2v/internal/cli"
	"github.com/d2vgo/d2v/kernels"
)

type modelList []string

func (m *modelList) String() string     { return strings.Join(*m, ",") }
func (m *modelList) Set(v string) error { *m = append(*m, v); return nil }

// report is the result for one model.
type report struct {
	Model         string    `json:"model"`
	FileBytes     int64     `json:"file_bytes"`
	LoadSeconds   float64   `json:"load_seconds"`
	MsPerImage    float64   `json:"ms_per_image"` // median over runs, warm
	MsPerImageMin float64   `json:"ms_per_image_min"`
	HeapPeakBytes uint64    `json:"heap_peak_bytes"`  // max sampled /memory/classes/heap/objects:bytes
	GoTotalBytes  uint64    `json:"go_total_bytes"`   // /memory/classes/total:bytes at the end
	HeapPeakRatio float64   `json:"heap_peak_ratio"`  // HeapPeakBytes / FileBytes
	Cosine        []float64 `json:"cosine,omitempty"` // per image, against the first model
	GCCycles      uint32    `json:"gc_cycles_while_classifying"`
}

// environment describes where the benchmark ran.
type environment struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Kernels    string `json:"kernels"`
	Go         string `json:"go"`
	Date       string `json:"date"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var models modelList
	flags.Var(&models, "model", "model `folder` to measure (repeatable; the first is the reference for -cosine)")
	runs := flags.Int("runs", 3, "timed runs per image after one warm-up run")
	threads := flags.Int("threads", 0, "GOMAXPROCS (0: leave as is)")
	asJSON := flags.Bool("json", false, "print JSON")
	keepFloat32 := flags.Bool("float32", false, "run float weights as stored instead of quantizing them to int8 while loading")
	cpuProfile := flags.String("cpuprofile", "", "write a CPU profile of the native run to `file`")
	chromium := flags.Bool("chromium", false, "measure the web page in headless Chromium, SIMD and scalar builds")
	gcPercent := flags.Int("gogc", classifier.GCPercent, "garbage collector target percentage, as GOGC; the default is what the WebAssembly builds use")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	log := cli.Logger(stderr)
	if *chromium {
		if len(models) > 1 {
			log.Error("-chromium measures one model")
			return 2
		}
		model := ""
		if len(models) == 1 {
			model = models[0]
		}
		if err := runChromium(model, *runs, stdout, stderr); err != nil {
			log.Error("browser benchmark failed", "err", err)
			return 1
		}
		return 0
	}
	if len(models) == 0 || flags.NArg() == 0 || *runs < 1 {
		log.Error("give at least one -model, one image, and -runs of at least 1")
		return 2
	}
	debug.SetGCPercent(*gcPercent)
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Error("cannot create profile", "err", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Error("cannot start profile", "err", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	images := make([][]byte, flags.NArg())
	for i, path := range flags.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			log.Error("cannot read image", "file", path, "err", err)
			return 1
		}
		images[i] = data
	}

	env := environment{
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GOMAXPROCS: runtime.GOMAXPROCS(0),
		Kernels: kernels.Variant(), Go: runtime.Version(), Date: time.Now().UTC().Format(time.RFC3339),
	}
	var reports []report
	var reference [][]float32
	for i, dir := range models {
		r, logits, err := measure(dir, images, *runs, classifier.Options{Float32: *keepFloat32})
		if err != nil {
			log.Error("benchmark failed", "model", dir, "err", err)
			return 1
		}
		if i == 0 {
			reference = logits
		} else {
			for j := range logits {
				r.Cosine = append(r.Cosine, cosine(reference[j], logits[j]))
			}
		}
		reports = append(reports, r)
	}

	if *asJSON {
		js, _ := json.MarshalIndent(map[string]any{"environment": env, "models": reports}, "", "  ")
		fmt.Fprintf(stdout, "%s\n", js)
		return 0
	}
	fmt.Fprintf(stdout, "%s/%s GOMAXPROCS=%d kernels=%s %s %s\n", env.GOOS, env.GOARCH, env.GOMAXPROCS, env.Kernels, env.Go, env.Date)
	for _, r := range reports {
		fmt.Fprintf(stdout, "%s\n  files %.1f MB, load %.2f s, %.1f ms/image (min %.1f), heap peak %.1f MB (%.2fx files), Go total %.1f MB, GC cycles while classifying %d\n",
			r.Model, mb(r.FileBytes), r.LoadSeconds, r.MsPerImage, r.MsPerImageMin, mb(int64(r.HeapPeakBytes)), r.HeapPeakRatio, mb(int64(r.GoTotalBytes)), r.GCCycles)
		if r.Cosine != nil {
			fmt.Fprintf(stdout, "  logit cosine to %s: %v\n", reports[0].Model, formatFloats(r.Cosine))
		}
	}
	return 0
}

// measure loads a model, classifies every image runs+1 times, and samples
// the heap after each step.
func measure(dir string, images [][]byte, runs int, opts classifier.Options) (report, [][]float32, error) {
	r := report{Model: dir}
	var err error
	if r.FileBytes, err = modelBytes(dir); err != nil {
		return r, nil, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	sampler := newHeapSampler()
	baseline := sampler.sample()

	start := time.Now()
	c, err := classifier.OpenWithOptions(dir, opts)
	if err != nil {
		return r, nil, err
	}
	r.LoadSeconds = time.Since(start).Seconds()
	sampler.sample()

	var times []float64
	logits := make([][]float32, len(images))
	gcBefore := gcCycles()
	for i, data := range images {
		for run := 0; run <= runs; run++ {
			t0 := time.Now()
			result, err := c.ClassifyImage(data, 5)
			if err != nil {
				return r, nil, fmt.Errorf("image %d: %w", i, err)
			}
			if run > 0 {
				times = append(times, float64(time.Since(t0).Microseconds())/1000)
			}
			logits[i] = result.Logits
			sampler.sample()
		}
	}
	r.GCCycles = gcCycles() - gcBefore
	sampler.stop()
	runtime.KeepAlive(c)

	sort.Float64s(times)
	r.MsPerImage = times[len(times)/2]
	r.MsPerImageMin = times[0]
	r.HeapPeakBytes = sampler.peak - baseline
	r.GoTotalBytes = readMetric("/memory/classes/total:bytes")
	r.HeapPeakRatio = float64(r.HeapPeakBytes) / float64(r.FileBytes)
	return r, logits, nil
}

// modelBytes sums the sizes of the model's files.
func modelBytes(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".safetensors") || strings.HasSuffix(name, ".bin") {
			info, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				return 0, err
			}
			total += info.Size()
		}
	}
	return total, nil
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func mb(n int64) float64 { return float64(n) / 1e6 }

func formatFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.6f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
