package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const testRepo = "facebook/data2vec-vision-base-ft1k"

func repoDir(c *Client, repoID string) string {
	return filepath.Join(c.CacheDir, "models--"+strings.ReplaceAll(repoID, "/", "--"))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

func assertMissing(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (Lstat error %v), want it absent", path, err)
	}
}

// requestsSince returns the requests after the first n.
func requestsSince(f *fakeHub, n int) []recordedRequest {
	return f.requestLog()[n:]
}

func TestDownloadLFSFile(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(300_000)
	file := lfsFile(content)
	f.addFile(testRepo, "model.safetensors", file)
	c := f.client()

	path, err := c.Download(t.Context(), testRepo, "", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	dir := repoDir(c, testRepo)
	wantPath := filepath.Join(dir, "snapshots", testCommit, "model.safetensors")
	if path != wantPath {
		t.Errorf("path = %s, want %s", path, wantPath)
	}
	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("downloaded content differs from the served content (%d bytes, want %d)", len(got), len(content))
	}
	blob := filepath.Join(dir, "blobs", file.sha256())
	if got := readFile(t, blob); !bytes.Equal(got, content) {
		t.Errorf("blob content differs from the served content")
	}
	target, err := os.Readlink(path)
	if err != nil {
		t.Fatalf("snapshot entry is not a symlink: %v", err)
	}
	if want := filepath.Join("..", "..", "blobs", file.sha256()); target != want {
		t.Errorf("symlink target = %q, want %q", target, want)
	}
	if ref := string(readFile(t, filepath.Join(dir, "refs", "main"))); ref != testCommit {
		t.Errorf("refs/main = %q, want %q", ref, testCommit)
	}
	assertMissing(t, blob+".incomplete")

	log := f.requestLog()
	if len(log) != 2 {
		t.Fatalf("requests = %+v, want one HEAD and one GET", log)
	}
	if log[0].server != "hub" || log[0].method != http.MethodHead {
		t.Errorf("first request = %+v, want HEAD to the hub", log[0])
	}
	if log[1].server != "cdn" || log[1].method != http.MethodGet {
		t.Errorf("second request = %+v, want GET to the CDN", log[1])
	}
	if log[1].rangeHeader != "" {
		t.Errorf("fresh download sent Range %q", log[1].rangeHeader)
	}

	again, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("second Download: %v", err)
	}
	if again != path {
		t.Errorf("second Download path = %s, want %s", again, path)
	}
	if extra := requestsSince(f, 2); len(extra) != 0 {
		t.Errorf("second Download sent %d requests, want 0: %+v", len(extra), extra)
	}
}

func TestDownloadSmallFileWithoutRedirect(t *testing.T) {
	for _, weak := range []bool{false, true} {
		t.Run(fmt.Sprintf("weak=%v", weak), func(t *testing.T) {
			f := newFakeHub(t)
			content := []byte(`{"model_type": "data2vec-vision", "image_size": 224}`)
			file := gitFile(content)
			file.weakETag = weak
			f.addFile(testRepo, "config.json", file)
			c := f.client()

			path, err := c.Download(t.Context(), testRepo, "main", "config.json")
			if err != nil {
				t.Fatalf("Download: %v", err)
			}

			if got := readFile(t, path); !bytes.Equal(got, content) {
				t.Errorf("content = %q, want %q", got, content)
			}
			blob := filepath.Join(repoDir(c, testRepo), "blobs", gitBlobID(content))
			if got := readFile(t, blob); !bytes.Equal(got, content) {
				t.Errorf("blob %s content = %q, want %q", blob, got, content)
			}
			log := f.requestLog()
			if len(log) != 2 {
				t.Fatalf("requests = %+v, want HEAD and GET", log)
			}
			for _, r := range log {
				if r.server != "hub" {
					t.Errorf("request %+v went to %s, want the hub", r, r.server)
				}
			}
			if log[1].method != http.MethodGet || !strings.HasSuffix(log[1].path, "/resolve/main/config.json") {
				t.Errorf("content request = %+v, want GET of the resolve URL", log[1])
			}
		})
	}
}

func TestDownloadNestedFilename(t *testing.T) {
	f := newFakeHub(t)
	content := []byte("nested")
	f.addFile(testRepo, "onnx/sub/model.json", gitFile(content))
	c := f.client()

	path, err := c.Download(t.Context(), testRepo, "main", "onnx/sub/model.json")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	want := filepath.Join(repoDir(c, testRepo), "snapshots", testCommit, "onnx", "sub", "model.json")
	if path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	target, err := os.Readlink(path)
	if err != nil {
		t.Fatalf("Readlink: %v", err)
	}
	if wantTarget := filepath.Join("..", "..", "..", "..", "blobs", gitBlobID(content)); target != wantTarget {
		t.Errorf("symlink target = %q, want %q", target, wantTarget)
	}
	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content = %q, want %q", got, content)
	}
}

func TestDownloadResumesAfterCut(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(200_000)
	file := lfsFile(content)
	f.addFile(testRepo, "model.safetensors", file)
	f.cutAfter = 70_000
	f.cuts = 1
	c := f.client()

	_, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err == nil {
		t.Fatal("Download succeeded although the connection was cut and retries are off")
	}
	if !strings.Contains(err.Error(), "run again to resume") {
		t.Errorf("error %q does not tell the user to run again", err)
	}
	if strings.Contains(err.Error(), cdnSignature) {
		t.Errorf("error %q contains the CDN signature", err)
	}
	incomplete := filepath.Join(repoDir(c, testRepo), "blobs", file.sha256()+".incomplete")
	partial := readFile(t, incomplete)
	if len(partial) != f.cutAfter {
		t.Fatalf("partial download has %d bytes, want %d", len(partial), f.cutAfter)
	}
	assertMissing(t, filepath.Join(repoDir(c, testRepo), "snapshots", testCommit, "model.safetensors"))

	before := f.requestCount()
	path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("resumed Download: %v", err)
	}
	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("resumed content differs from the served content")
	}
	var gets []recordedRequest
	for _, r := range requestsSince(f, before) {
		if r.method == http.MethodGet {
			gets = append(gets, r)
		}
	}
	if len(gets) != 1 {
		t.Fatalf("resumed Download sent %d GET requests, want 1: %+v", len(gets), gets)
	}
	if want := fmt.Sprintf("bytes=%d-", f.cutAfter); gets[0].rangeHeader != want {
		t.Errorf("Range = %q, want %q", gets[0].rangeHeader, want)
	}
	assertMissing(t, incomplete)
}

func TestDownloadRetriesWithinCall(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(150_000)
	f.addFile(testRepo, "model.safetensors", lfsFile(content))
	f.cutAfter = 40_000
	f.cuts = 1
	c := f.client()
	c.MaxRetries = 2

	path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content differs from the served content")
	}
	var ranges []string
	for _, r := range f.requestLog() {
		if r.method == http.MethodGet {
			ranges = append(ranges, r.rangeHeader)
		}
	}
	if want := []string{"", "bytes=40000-"}; fmt.Sprint(ranges) != fmt.Sprint(want) {
		t.Errorf("Range headers of the GET requests = %q, want %q", ranges, want)
	}
}

func TestDownloadStalledTransfer(t *testing.T) {
	t.Run("retry resumes", func(t *testing.T) {
		f := newFakeHub(t)
		content := testContent(100_000)
		f.addFile(testRepo, "model.safetensors", lfsFile(content))
		f.stallAfter = 30_000
		f.stalls = 1
		c := f.client()
		c.ReadTimeout = 200 * time.Millisecond
		c.MaxRetries = 1

		path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
		if err != nil {
			t.Fatalf("Download: %v", err)
		}

		if got := readFile(t, path); !bytes.Equal(got, content) {
			t.Errorf("content differs from the served content")
		}
		log := f.requestLog()
		if last := log[len(log)-1]; last.rangeHeader != "bytes=30000-" {
			t.Errorf("last request Range = %q, want %q", last.rangeHeader, "bytes=30000-")
		}
	})

	t.Run("no retries", func(t *testing.T) {
		f := newFakeHub(t)
		f.addFile(testRepo, "model.safetensors", lfsFile(testContent(100_000)))
		f.stallAfter = 30_000
		f.stalls = 1
		c := f.client()
		c.ReadTimeout = 200 * time.Millisecond

		_, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
		if err == nil {
			t.Fatal("Download succeeded although the transfer stalled and retries are off")
		}
		if !strings.Contains(err.Error(), "timed out: no data within 200ms") {
			t.Errorf("error %q does not name the stall timeout", err)
		}
	})
}

func TestDownloadSlowSteadyTransfer(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(10_000)
	f.addFile(testRepo, "model.safetensors", lfsFile(content))
	f.trickleDelay = 40 * time.Millisecond
	c := f.client()
	c.ReadTimeout = 150 * time.Millisecond

	start := time.Now()
	path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if elapsed := time.Since(start); elapsed < 2*c.ReadTimeout {
		t.Fatalf("transfer took %v, which does not exceed the read timeout enough to test it", elapsed)
	}
	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content differs from the served content")
	}
}

func TestDownloadServerIgnoresRange(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(50_000)
	file := lfsFile(content)
	f.addFile(testRepo, "model.safetensors", file)
	f.ignoreRange = true
	c := f.client()
	blobs := filepath.Join(repoDir(c, testRepo), "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	// Wrong bytes in the partial file show whether they were discarded.
	garbage := bytes.Repeat([]byte{0xff}, 10_000)
	if err := os.WriteFile(filepath.Join(blobs, file.sha256()+".incomplete"), garbage, 0o644); err != nil {
		t.Fatal(err)
	}

	path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content differs from the served content")
	}
	log := f.requestLog()
	if r := log[len(log)-1]; r.rangeHeader != "bytes=10000-" {
		t.Errorf("Range = %q, want %q", r.rangeHeader, "bytes=10000-")
	}
}

func TestDownloadChecksumMismatch(t *testing.T) {
	f := newFakeHub(t)
	announced := testContent(40_000)
	served := bytes.Clone(announced)
	served[12_345] ^= 1
	file := lfsFile(served)
	sum := lfsFile(announced).sha256()
	file.announcedSHA = sum
	f.addFile(testRepo, "model.safetensors", file)
	c := f.client()

	_, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")

	var checksumErr *ChecksumError
	if !errors.As(err, &checksumErr) {
		t.Fatalf("error = %v, want *ChecksumError", err)
	}
	actual := lfsFile(served).sha256()
	if checksumErr.Expected != sum || checksumErr.Actual != actual {
		t.Errorf("ChecksumError hashes = %s / %s, want %s / %s", checksumErr.Expected, checksumErr.Actual, sum, actual)
	}
	for _, part := range []string{"model.safetensors", sum, actual} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	dir := repoDir(c, testRepo)
	assertMissing(t, filepath.Join(dir, "snapshots", testCommit, "model.safetensors"))
	assertMissing(t, filepath.Join(dir, "blobs", sum))
	assertMissing(t, filepath.Join(dir, "blobs", sum+".incomplete"))
}

func TestDownloadOversizedBody(t *testing.T) {
	f := newFakeHub(t)
	file := gitFile([]byte("0123456789ab"))
	file.announcedSize = 10
	f.addFile(testRepo, "config.json", file)
	c := f.client()

	_, err := c.Download(t.Context(), testRepo, "main", "config.json")

	if err == nil || !strings.Contains(err.Error(), "more than the announced 10 bytes") {
		t.Fatalf("error = %v, want one about more than the announced 10 bytes", err)
	}
	assertMissing(t, filepath.Join(repoDir(c, testRepo), "snapshots", testCommit, "config.json"))
	assertMissing(t, filepath.Join(repoDir(c, testRepo), "blobs", gitBlobID(file.content)))
}

func TestDownloadMissingFile(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "pytorch_model.bin", lfsFile([]byte("weights")))
	c := f.client()

	_, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")

	if !errors.Is(err, ErrEntryNotFound) {
		t.Fatalf("error = %v, want ErrEntryNotFound", err)
	}
	if !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	for _, part := range []string{`"model.safetensors"`, testRepo, `"main"`, "404"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %s", err, part)
		}
	}
	dir := repoDir(c, testRepo)
	if _, statErr := os.Stat(filepath.Join(dir, ".no_exist", testCommit, "model.safetensors")); statErr != nil {
		t.Errorf("missing-file marker not written: %v", statErr)
	}
	if ref := string(readFile(t, filepath.Join(dir, "refs", "main"))); ref != testCommit {
		t.Errorf("refs/main = %q, want %q", ref, testCommit)
	}

	before := f.requestCount()
	_, err = c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if !IsNotFound(err) || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("second Download error = %v, want a not-found error naming the file", err)
	}
	if n := f.requestCount() - before; n != 0 {
		t.Errorf("second Download sent %d requests, want 0 because the cache records the missing file", n)
	}

	path, err := c.Download(t.Context(), testRepo, "main", "pytorch_model.bin")
	if err != nil {
		t.Fatalf("fallback Download: %v", err)
	}
	if got := string(readFile(t, path)); got != "weights" {
		t.Errorf("fallback content = %q, want %q", got, "weights")
	}
}

func TestDownloadMissingRepo(t *testing.T) {
	f := newFakeHub(t)
	c := f.client()

	_, err := c.Download(t.Context(), "nobody/nothing", "main", "config.json")

	if !errors.Is(err, ErrRepoNotFound) {
		t.Fatalf("error = %v, want ErrRepoNotFound", err)
	}
	if !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	for _, part := range []string{`"nobody/nothing"`, "repository", "HF_TOKEN"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %s", err, part)
		}
	}
	assertMissing(t, repoDir(c, "nobody/nothing"))
}

func TestDownloadMissingRevision(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "config.json", gitFile([]byte("{}")))
	c := f.client()

	_, err := c.Download(t.Context(), testRepo, "v9", "config.json")

	if !errors.Is(err, ErrRevisionNotFound) {
		t.Fatalf("error = %v, want ErrRevisionNotFound", err)
	}
	if !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	if !strings.Contains(err.Error(), `revision "v9"`) {
		t.Errorf("error %q does not name the revision", err)
	}
}

func TestDownloadNotFoundWithoutErrorCode(t *testing.T) {
	f := newFakeHub(t)
	f.omitErrorCode = true
	c := f.client()

	_, err := c.Download(t.Context(), testRepo, "main", "config.json")

	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
	if errors.Is(err, ErrRepoNotFound) || errors.Is(err, ErrEntryNotFound) {
		t.Errorf("error %v claims a specific kind without an X-Error-Code", err)
	}
	if !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	if !strings.Contains(err.Error(), testRepo) || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("error %q does not name repository and file", err)
	}
}

func TestDownloadUnauthorized(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(10_000)
	f.addFile("acme/private-model", "model.safetensors", lfsFile(content))
	f.private["acme/private-model"] = true
	c := f.client()

	_, err := c.Download(t.Context(), "acme/private-model", "main", "model.safetensors")

	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error = %v, want ErrUnauthorized", err)
	}
	if IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = true for 401", err)
	}
	if !strings.Contains(err.Error(), "HF_TOKEN") || !strings.Contains(err.Error(), "401") {
		t.Errorf("error %q does not mention HF_TOKEN and the status", err)
	}
	for _, r := range f.requestLog() {
		if r.authorization != "" {
			t.Errorf("request %+v carried Authorization although no token is set", r)
		}
	}

	c.Token = testToken
	before := f.requestCount()
	path, err := c.Download(t.Context(), "acme/private-model", "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download with token: %v", err)
	}
	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content differs from the served content")
	}
	for _, r := range requestsSince(f, before) {
		switch r.server {
		case "hub":
			if r.authorization != "Bearer "+testToken {
				t.Errorf("hub request %+v: Authorization = %q, want the bearer token", r, r.authorization)
			}
		case "cdn":
			if r.authorization != "" {
				t.Errorf("CDN request %+v carried Authorization %q; the token must stay on the hub's host", r, r.authorization)
			}
		}
	}
}

func TestDownloadRejectedToken(t *testing.T) {
	f := newFakeHub(t)
	f.addFile("acme/private-model", "config.json", gitFile([]byte("{}")))
	f.private["acme/private-model"] = true
	c := f.client()
	c.Token = "hf_wrong"

	_, err := c.Download(t.Context(), "acme/private-model", "main", "config.json")

	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error = %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "token in HF_TOKEN is valid") {
		t.Errorf("error %q does not say that the token was rejected", err)
	}
	if strings.Contains(err.Error(), "hf_wrong") {
		t.Errorf("error %q contains the token", err)
	}
}

func TestDownloadGatedRepo(t *testing.T) {
	f := newFakeHub(t)
	f.addFile("acme/gated", "config.json", gitFile([]byte("{}")))
	f.gated["acme/gated"] = true
	c := f.client()

	_, err := c.Download(t.Context(), "acme/gated", "main", "config.json")

	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error = %v, want ErrUnauthorized", err)
	}
	for _, part := range []string{"gated", "HF_TOKEN", "403", "Access to this model is restricted."} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestDownloadServerError(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "config.json", gitFile([]byte("{}")))
	f.headStatus = http.StatusBadGateway
	c := f.client()

	_, err := c.Download(t.Context(), testRepo, "main", "config.json")

	var httpErr *HTTPError
	if !errors.As(err, &httpErr) {
		t.Fatalf("error = %v, want *HTTPError", err)
	}
	if httpErr.StatusCode != http.StatusBadGateway {
		t.Errorf("StatusCode = %d, want %d", httpErr.StatusCode, http.StatusBadGateway)
	}
	if !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("error %q does not name the status", err)
	}
	if IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = true for 502", err)
	}
}

func TestDownloadCDNErrorHidesSignature(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "model.safetensors", lfsFile(testContent(1000)))
	f.cdnStatus = http.StatusForbidden
	c := f.client()
	var logs bytes.Buffer
	c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	_, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")

	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Fatalf("error = %v, want a 403 error", err)
	}
	if errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("error %q blames the token for a failure at the storage host", err)
	}
	if strings.Contains(err.Error(), cdnSignature) {
		t.Errorf("error %q contains the CDN signature", err)
	}
	if strings.Contains(logs.String(), cdnSignature) {
		t.Errorf("log contains the CDN signature:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "hub: downloading") {
		t.Errorf("log lacks the download start record:\n%s", logs.String())
	}
}

func TestDownloadTokenNeverLogged(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "model.safetensors", lfsFile(testContent(1000)))
	c := f.client()
	c.Token = testToken
	var logs bytes.Buffer
	c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	if _, err := c.Download(t.Context(), testRepo, "main", "model.safetensors"); err != nil {
		t.Fatalf("Download: %v", err)
	}

	if logs.Len() == 0 {
		t.Fatal("no log records; the test cannot check for the token")
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("log contains the token:\n%s", logs.String())
	}
}

func TestDownloadOffline(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(5000)
	f.addFile(testRepo, "model.safetensors", lfsFile(content))
	online := f.client()
	want, err := online.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("online Download: %v", err)
	}
	offline := f.client()
	offline.CacheDir = online.CacheDir
	offline.Offline = true
	before := f.requestCount()

	got, err := offline.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("offline Download of a cached file: %v", err)
	}
	if got != want {
		t.Errorf("offline path = %s, want %s", got, want)
	}

	_, err = offline.Download(t.Context(), testRepo, "main", "pytorch_model.bin")
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline Download of an uncached file: error = %v, want ErrNotCached", err)
	}
	if !IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	if !strings.Contains(err.Error(), "HF_HUB_OFFLINE") || !strings.Contains(err.Error(), "pytorch_model.bin") {
		t.Errorf("error %q does not name the file and HF_HUB_OFFLINE", err)
	}
	if n := f.requestCount() - before; n != 0 {
		t.Errorf("offline Downloads sent %d requests, want 0", n)
	}
}

func TestDownloadUsesPythonCache(t *testing.T) {
	f := newFakeHub(t)
	c := f.client()
	// The layout that huggingface_hub writes, built by hand. The fake hub
	// has no such repository, so any request would fail.
	dir := repoDir(c, "google/vit-base")
	etag := strings.Repeat("ab", 32)
	mustWrite(t, filepath.Join(dir, "blobs", etag), "python bytes")
	mustWrite(t, filepath.Join(dir, "refs", "main"), testCommit)
	snapshot := filepath.Join(dir, "snapshots", testCommit)
	if err := os.MkdirAll(snapshot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "blobs", etag), filepath.Join(snapshot, "model.safetensors")); err != nil {
		t.Fatal(err)
	}

	path, err := c.Download(t.Context(), "google/vit-base", "", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if got := string(readFile(t, path)); got != "python bytes" {
		t.Errorf("content = %q, want the cached bytes", got)
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("Download sent %d requests, want 0", n)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadCommitRevision(t *testing.T) {
	f := newFakeHub(t)
	content := []byte(`{"a": 1}`)
	f.addFile(testRepo, "config.json", gitFile(content))
	c := f.client()

	path, err := c.Download(t.Context(), testRepo, testCommit, "config.json")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content = %q, want %q", got, content)
	}
	if head := f.requestLog()[0]; !strings.Contains(head.path, "/resolve/"+testCommit+"/") {
		t.Errorf("HEAD path = %s, want the commit in it", head.path)
	}
	assertMissing(t, filepath.Join(repoDir(c, testRepo), "refs"))

	c.Revalidate = true
	before := f.requestCount()
	if _, err := c.Download(t.Context(), testRepo, testCommit, "config.json"); err != nil {
		t.Fatalf("second Download: %v", err)
	}
	if n := f.requestCount() - before; n != 0 {
		t.Errorf("second Download of a commit sent %d requests, want 0 even with Revalidate", n)
	}
}

func TestDownloadRevalidate(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "model.safetensors", lfsFile(testContent(2000)))
	c := f.client()
	path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("first Download: %v", err)
	}
	c.Revalidate = true

	before := f.requestCount()
	again, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("revalidating Download: %v", err)
	}
	if again != path {
		t.Errorf("path = %s, want %s", again, path)
	}
	extra := requestsSince(f, before)
	if len(extra) != 1 || extra[0].method != http.MethodHead {
		t.Errorf("revalidating Download sent %+v, want one HEAD", extra)
	}

	f.mu.Lock()
	f.headStatus = http.StatusServiceUnavailable
	f.mu.Unlock()
	fallback, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download with the hub failing: %v, want the cached file", err)
	}
	if fallback != path {
		t.Errorf("fallback path = %s, want %s", fallback, path)
	}
}

func TestDownloadFollowsRenamedRepo(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(3000)
	f.addFile("acme/new-name", "model.safetensors", lfsFile(content))
	f.renamed["acme/old-name"] = "acme/new-name"
	c := f.client()

	path, err := c.Download(t.Context(), "acme/old-name", "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content differs from the served content")
	}
	if want := repoDir(c, "acme/old-name"); !strings.HasPrefix(path, want) {
		t.Errorf("path = %s, want it under the requested repository's folder %s", path, want)
	}
	heads := 0
	for _, r := range f.requestLog() {
		if r.method == http.MethodHead {
			heads++
		}
	}
	if heads != 2 {
		t.Errorf("sent %d HEAD requests, want 2 (old name, then new name)", heads)
	}
}

func TestDownloadRelativeLFSRedirect(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(4000)
	file := lfsFile(content)
	f.addFile(testRepo, "model.safetensors", file)
	f.relativeLFSRedirect = true
	c := f.client()
	c.Token = testToken

	path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if got := readFile(t, path); !bytes.Equal(got, content) {
		t.Errorf("content differs from the served content")
	}
	log := f.requestLog()
	if len(log) != 2 {
		t.Fatalf("requests = %+v, want HEAD and GET", log)
	}
	get := log[1]
	if get.method != http.MethodGet || get.path != "/cdn/"+file.sha256() {
		t.Errorf("content request = %+v, want GET /cdn/%s", get, file.sha256())
	}
	if get.authorization != "Bearer "+testToken {
		t.Errorf("same-host content request Authorization = %q, want the token", get.authorization)
	}
}

func TestDownloadLinkFallback(t *testing.T) {
	failingSymlink := func(string, string) error { return errors.New("symlinks not supported") }
	failingLink := func(string, string) error { return errors.New("hard links not supported") }
	tests := []struct {
		name     string
		symlink  func(string, string) error
		hardLink func(string, string) error
		sameFile bool // whether the snapshot entry shares the blob's inode
	}{
		{"hard link", failingSymlink, os.Link, true},
		{"copy", failingSymlink, failingLink, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			savedSymlink, savedLink := symlink, hardLink
			symlink, hardLink = tt.symlink, tt.hardLink
			t.Cleanup(func() { symlink, hardLink = savedSymlink, savedLink })
			f := newFakeHub(t)
			content := testContent(7000)
			file := lfsFile(content)
			f.addFile(testRepo, "model.safetensors", file)
			c := f.client()

			path, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")
			if err != nil {
				t.Fatalf("Download: %v", err)
			}

			info, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !info.Mode().IsRegular() {
				t.Errorf("snapshot entry mode = %v, want a regular file", info.Mode())
			}
			if got := readFile(t, path); !bytes.Equal(got, content) {
				t.Errorf("snapshot content differs from the served content")
			}
			blob := filepath.Join(repoDir(c, testRepo), "blobs", file.sha256())
			if got := readFile(t, blob); !bytes.Equal(got, content) {
				t.Errorf("blob content differs from the served content")
			}
			blobInfo, err := os.Stat(blob)
			if err != nil {
				t.Fatal(err)
			}
			if same := os.SameFile(info, blobInfo); same != tt.sameFile {
				t.Errorf("snapshot entry and blob are the same file: %v, want %v", same, tt.sameFile)
			}
		})
	}
}

func TestDownloadConcurrentSameFile(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(500_000)
	f.addFile(testRepo, "model.safetensors", lfsFile(content))
	// A slow transfer makes the other workers arrive while the first one
	// is still downloading.
	f.trickleDelay = 20 * time.Millisecond
	c := f.client()

	const workers = 4
	paths := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			paths[i], errs[i] = c.Download(t.Context(), testRepo, "main", "model.safetensors")
		})
	}
	wg.Wait()

	for i := range workers {
		if errs[i] != nil {
			t.Errorf("worker %d: %v", i, errs[i])
			continue
		}
		if got := readFile(t, paths[i]); !bytes.Equal(got, content) {
			t.Errorf("worker %d: content differs from the served content", i)
		}
	}
	gets := 0
	for _, r := range f.requestLog() {
		if r.method == http.MethodGet {
			gets++
		}
	}
	if gets != 1 {
		t.Errorf("sent %d GET requests, want 1", gets)
	}
}

func TestDownloadContextCanceled(t *testing.T) {
	f := newFakeHub(t)
	file := lfsFile(testContent(100_000))
	f.addFile(testRepo, "model.safetensors", file)
	f.stallAfter = 20_000
	f.stalls = 1
	c := f.client()
	c.MaxRetries = 3
	ctx, cancel := context.WithCancel(t.Context())
	// Cancelling once bytes are on disk lets the test check that they stay.
	c.Progress = func(_ string, done, _ int64) {
		if done > 0 {
			cancel()
		}
	}

	start := time.Now()
	_, err := c.Download(ctx, testRepo, "main", "model.safetensors")

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Download returned %v after the transfer began, want it to stop at cancellation", elapsed)
	}
	gets := 0
	for _, r := range f.requestLog() {
		if r.method == http.MethodGet {
			gets++
		}
	}
	if gets != 1 {
		t.Errorf("sent %d GET requests, want 1 because cancellation is not retried", gets)
	}
	incomplete := filepath.Join(repoDir(c, testRepo), "blobs", file.sha256()+".incomplete")
	if info, statErr := os.Stat(incomplete); statErr != nil || info.Size() == 0 {
		t.Errorf("partial download not kept for resuming: %v", statErr)
	}
}

func TestDownloadMetadataTimeout(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "config.json", gitFile([]byte("{}")))
	f.headDelay = 2 * time.Second
	c := f.client()
	c.MetadataTimeout = 100 * time.Millisecond

	start := time.Now()
	_, err := c.Download(t.Context(), testRepo, "main", "config.json")

	if err == nil || !strings.Contains(err.Error(), "timed out: no HEAD response within 100ms") {
		t.Fatalf("error = %v, want a HEAD timeout", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Download took %v, want about the 100ms timeout", elapsed)
	}
}

func TestDownloadProgress(t *testing.T) {
	f := newFakeHub(t)
	content := testContent(1_000_000)
	f.addFile(testRepo, "model.safetensors", lfsFile(content))
	c := f.client()
	type update struct{ done, total int64 }
	var updates []update
	c.Progress = func(file string, done, total int64) {
		if file != "model.safetensors" {
			t.Errorf("Progress file = %q, want model.safetensors", file)
		}
		updates = append(updates, update{done, total})
	}

	if _, err := c.Download(t.Context(), testRepo, "main", "model.safetensors"); err != nil {
		t.Fatalf("Download: %v", err)
	}

	if len(updates) < 3 {
		t.Fatalf("Progress called %d times, want a start, blocks and an end", len(updates))
	}
	if first := updates[0]; first.done != 0 {
		t.Errorf("first update done = %d, want 0", first.done)
	}
	for i, u := range updates {
		if u.total != int64(len(content)) {
			t.Errorf("update %d total = %d, want %d", i, u.total, len(content))
		}
		if i > 0 && u.done < updates[i-1].done {
			t.Errorf("update %d done = %d went back from %d", i, u.done, updates[i-1].done)
		}
	}
	if last := updates[len(updates)-1]; last.done != int64(len(content)) {
		t.Errorf("last update done = %d, want %d", last.done, len(content))
	}

	updates = nil
	if _, err := c.Download(t.Context(), testRepo, "main", "model.safetensors"); err != nil {
		t.Fatalf("cached Download: %v", err)
	}
	if len(updates) != 0 {
		t.Errorf("Progress called %d times for a cached file, want 0", len(updates))
	}
}

func TestDownloadRejectsUnsafeServerValues(t *testing.T) {
	tests := []struct {
		name, commit, etag string
	}{
		{"commit with path", "../../../../escape", ""},
		{"short commit", "abc123", ""},
		{"etag with path", "", "../../escape"},
		{"etag with separator", "", "a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHub(t)
			f.addFile(testRepo, "model.safetensors", lfsFile(testContent(100)))
			f.commitHeader = tt.commit
			f.etagHeader = tt.etag
			c := f.client()

			_, err := c.Download(t.Context(), testRepo, "main", "model.safetensors")

			if err == nil {
				t.Fatal("Download accepted an unsafe server value")
			}
			entries, readErr := os.ReadDir(c.CacheDir)
			if readErr != nil {
				t.Fatal(readErr)
			}
			for _, e := range entries {
				if e.Name() != "models--facebook--data2vec-vision-base-ft1k" {
					t.Errorf("cache folder contains unexpected entry %q", e.Name())
				}
			}
			for _, r := range f.requestLog() {
				if r.method == http.MethodGet {
					t.Errorf("sent GET %s after invalid metadata", r.path)
				}
			}
		})
	}
}

func TestDownloadRejectsInvalidArguments(t *testing.T) {
	tests := []struct {
		name, repoID, revision, filename string
	}{
		{"repo with three parts", "a/b/c", "main", "config.json"},
		{"repo with dot dot", "a/b..c", "main", "config.json"},
		{"repo with double dash", "a/b--c", "main", "config.json"},
		{"empty repo", "", "main", "config.json"},
		{"filename with dot dot", testRepo, "main", "../config.json"},
		{"absolute filename", testRepo, "main", "/etc/passwd"},
		{"filename with backslash", testRepo, "main", `sub\config.json`},
		{"filename with drive", testRepo, "main", "C:config.json"},
		{"empty filename", testRepo, "main", ""},
		{"revision with dot dot", testRepo, "../main", "config.json"},
		{"absolute revision", testRepo, "/main", "config.json"},
	}
	f := newFakeHub(t)
	c := f.client()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Download(t.Context(), tt.repoID, tt.revision, tt.filename)
			if err == nil || !strings.Contains(err.Error(), "invalid") {
				t.Errorf("error = %v, want a validation error", err)
			}
		})
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("invalid arguments caused %d requests, want 0", n)
	}
}

func TestDownloadWithoutCacheDir(t *testing.T) {
	c := &Client{Endpoint: "http://127.0.0.1:1"}

	_, err := c.Download(t.Context(), testRepo, "main", "config.json")

	if err == nil || !strings.Contains(err.Error(), "no cache directory") {
		t.Errorf("error = %v, want one about the missing cache directory", err)
	}
}

func TestDownloadRevisionWithSlash(t *testing.T) {
	f := newFakeHub(t)
	f.addFile(testRepo, "config.json", gitFile([]byte("{}")))
	c := f.client()

	path, err := c.Download(t.Context(), testRepo, "refs/pr/1", "config.json")
	if err != nil {
		t.Fatalf("Download: %v", err)
	}

	if got := string(readFile(t, path)); got != "{}" {
		t.Errorf("content = %q, want %q", got, "{}")
	}
	if head := f.requestLog()[0]; head.path != "/"+testRepo+"/resolve/refs%2Fpr%2F1/config.json" {
		t.Errorf("HEAD path = %s, want the revision escaped as one segment", head.path)
	}
	ref := filepath.Join(repoDir(c, testRepo), "refs", "refs", "pr", "1")
	if got := string(readFile(t, ref)); got != testCommit {
		t.Errorf("%s = %q, want %q", ref, got, testCommit)
	}
	before := f.requestCount()
	if _, err := c.Download(t.Context(), testRepo, "refs/pr/1", "config.json"); err != nil {
		t.Fatalf("second Download: %v", err)
	}
	if n := f.requestCount() - before; n != 0 {
		t.Errorf("second Download sent %d requests, want 0", n)
	}
}
