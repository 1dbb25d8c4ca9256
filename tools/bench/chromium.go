package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// browserReport is the part of e2e/measure.mjs's JSON report that bench
// prints.
type browserReport struct {
	Build    string `json:"build"`
	Chromium string `json:"chromium"`
	Model    struct {
		Description string `json:"description"`
		Bytes       int64  `json:"bytes"`
	} `json:"model"`
	ColdLoad struct {
		ReadyMs      float64 `json:"readyMs"`
		FirstLabelMs float64 `json:"firstLabelMs"`
	} `json:"coldLoad"`
	Warm struct {
		MedianMs float64 `json:"medianMs"`
		MinMs    float64 `json:"minMs"`
		Runs     int     `json:"runs"`
	} `json:"warm"`
	Memory struct {
		WasmMemoryBytes  int64 `json:"wasmMemoryBytes"`
		HeapObjectsBytes int64 `json:"heapObjectsBytes"`
	} `json:"memory"`
}

// runChromium measures the real page and its Web Worker in headless
// Chromium, once with the SIMD build of the classifier and once with the
// scalar build, by running e2e/measure.mjs for each. model may be empty,
// which makes the script use a random model of the base geometry.
func runChromium(model string, runs int, stdout, stderr io.Writer) error {
	root, err := repositoryRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bench-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	reports := map[string]browserReport{}
	for _, build := range []string{"simd", "scalar"} {
		out := filepath.Join(tmp, build+".json")
		args := []string{filepath.Join("e2e", "measure.mjs"), "--build", build, "--runs", fmt.Sprint(runs), "--json", out}
		if model != "" {
			args = append(args, "--model", model)
		}
		cmd := exec.Command("node", args...)
		cmd.Dir = root
		cmd.Stdout = stderr
		cmd.Stderr = stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("node e2e/measure.mjs --build %s: %w", build, err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		var r browserReport
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("reading the %s report: %w", build, err)
		}
		reports[build] = r
	}

	simd, scalar := reports["simd"], reports["scalar"]
	fmt.Fprintf(stdout, "%s, headless, one thread, model %s (%.1f MB)\n", simd.Chromium, simd.Model.Description, float64(simd.Model.Bytes)/1e6)
	for _, build := range []string{"simd", "scalar"} {
		r := reports[build]
		fmt.Fprintf(stdout, "  %-6s warm %.0f ms/image (min %.0f, %d runs), cold load to first label %.0f ms, wasm memory %.1f MB\n",
			build, r.Warm.MedianMs, r.Warm.MinMs, r.Warm.Runs, r.ColdLoad.FirstLabelMs, float64(r.Memory.WasmMemoryBytes)/1e6)
	}
	fmt.Fprintf(stdout, "  SIMD is %.1fx faster than scalar\n", scalar.Warm.MedianMs/simd.Warm.MedianMs)
	return nil
}

// repositoryRoot returns the nearest folder at or above the working
// directory that holds go.mod.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory; run bench -chromium inside the repository")
		}
		dir = parent
	}
}
