package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// readBufferSize is the size of the blocks that a transfer reads, writes and
// reports to Client.Progress.
const readBufferSize = 256 << 10

// fetchBlob makes blobs/{etag} complete. It downloads into
// blobs/{etag}.incomplete, continuing from the bytes that an earlier call
// left there, checks the size and, for LFS files, the SHA-256, and then
// renames the file to blobs/{etag}. The caller holds the blob lock.
func (c *Client) fetchBlob(ctx context.Context, repo repoCache, req fileRequest, meta fileMetadata, log *slog.Logger) error {
	blob := repo.blobPath(meta.etag)
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fmt.Errorf("hub: create blob folder: %w", err)
	}
	incomplete := blob + ".incomplete"
	f, err := os.OpenFile(incomplete, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("hub: open partial download: %w", err)
	}
	defer f.Close()

	t := &transfer{client: c, file: f, req: req, meta: meta, log: log}
	if err := t.start(); err != nil {
		return err
	}
	if err := t.run(ctx); err != nil {
		return err
	}
	if err := t.verify(); err != nil {
		f.Close()
		if removeErr := os.Remove(incomplete); removeErr != nil {
			log.Warn("hub: cannot delete the rejected download", "path", incomplete, "err", removeErr)
		}
		return err
	}

	if err := f.Close(); err != nil {
		return fmt.Errorf("hub: write %s: %w", incomplete, err)
	}
	if err := os.Rename(incomplete, blob); err != nil {
		return fmt.Errorf("hub: move download into the cache: %w", err)
	}
	log.Info("hub: download complete", "bytes", meta.size, "path", blob)
	return nil
}

// transfer is the state of one blob download across its GET requests.
type transfer struct {
	client *Client
	file   *os.File
	req    fileRequest
	meta   fileMetadata
	log    *slog.Logger
	offset int64 // bytes in file, which are the first offset bytes of the blob
}

// start takes the bytes already in the file as the offset to resume from.
func (t *transfer) start() error {
	info, err := t.file.Stat()
	if err != nil {
		return fmt.Errorf("hub: inspect partial download: %w", err)
	}
	t.offset = info.Size()
	if t.offset > t.meta.size {
		t.log.Warn("hub: partial download is larger than the file, restarting", "bytes", t.offset, "size", t.meta.size)
		if err := t.restart(); err != nil {
			return err
		}
	}

	if t.offset > 0 {
		t.log.Info("hub: resuming download", "offset", t.offset, "size", t.meta.size, "url", redactURL(t.meta.location))
	} else {
		t.log.Info("hub: downloading", "size", t.meta.size, "url", redactURL(t.meta.location))
	}
	t.reportProgress()
	return nil
}

// run sends GET requests until the file has meta.size bytes, retrying
// transient failures up to Client.MaxRetries times in a row.
func (t *transfer) run(ctx context.Context) error {
	failures := 0
	for t.offset < t.meta.size {
		before := t.offset
		err := t.get(ctx)
		if err == nil {
			continue
		}
		if !isTransient(err) {
			return err
		}

		if t.offset > before {
			failures = 0
		}
		if failures >= t.client.MaxRetries {
			return fmt.Errorf("hub: download of %q from repository %q stopped at %d of %d bytes: %w; run again to resume",
				t.req.filename, t.req.repoID, t.offset, t.meta.size, err)
		}
		failures++
		t.log.Warn("hub: download interrupted, retrying", "attempt", failures, "max_retries", t.client.MaxRetries,
			"offset", t.offset, "err", err)

		select {
		case <-time.After(t.client.retryDelay()):
		case <-ctx.Done():
			return fmt.Errorf("hub: download of %q: %w", t.req.filename, context.Cause(ctx))
		}
	}
	return nil
}

// get sends one GET request, from t.offset when it is above zero, and
// appends the response body to the file.
func (t *transfer) get(ctx context.Context) error {
	location := t.meta.location
	timeout := t.client.readTimeout()
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	headerTimeout := &timeoutError{wait: "response headers", timeout: timeout}
	timer := time.AfterFunc(timeout, func() { cancel(headerTimeout) })
	defer func() { timer.Stop() }()

	httpReq, err := http.NewRequestWithContext(reqCtx, http.MethodGet, location.String(), nil)
	if err != nil {
		return err
	}
	// Transparent decompression would make the byte offsets of a Range
	// request refer to the compressed stream.
	httpReq.Header.Set("Accept-Encoding", "identity")
	httpReq.Header.Set("User-Agent", userAgent)
	// A CDN on another host gets a signed URL, not the token.
	tokenSent := t.meta.sendToken && t.client.Token != ""
	if tokenSent {
		httpReq.Header.Set("Authorization", "Bearer "+t.client.Token)
	}
	if t.offset > 0 {
		httpReq.Header.Set("Range", fmt.Sprintf("bytes=%d-", t.offset))
	}

	resp, err := t.client.httpClient().Do(httpReq)
	if err != nil {
		return requestError(ctx, reqCtx, "GET", location, err)
	}
	defer resp.Body.Close()

	if err := t.acceptStatus(resp, tokenSent); err != nil {
		return err
	}

	timer.Stop()
	dataTimeout := &timeoutError{wait: "data", timeout: timeout}
	timer = time.AfterFunc(timeout, func() { cancel(dataTimeout) })
	return t.copyBody(ctx, reqCtx, resp.Body, timer, timeout)
}

// acceptStatus checks the response status against the request. A server
// that ignores Range responds 200, and the file restarts from zero.
func (t *transfer) acceptStatus(resp *http.Response, tokenSent bool) error {
	location := redactURL(t.meta.location)
	switch resp.StatusCode {
	case http.StatusOK:
		if t.offset > 0 {
			t.log.Info("hub: server ignored the Range request, restarting from byte 0", "offset", t.offset)
			return t.restart()
		}
		return nil

	case http.StatusPartialContent:
		start, err := contentRangeStart(resp.Header.Get("Content-Range"))
		if err == nil && start == t.offset {
			return nil
		}
		if err := t.restart(); err != nil {
			return err
		}
		return &transientError{fmt.Errorf("hub: GET %s: Content-Range %q does not start at the requested byte; restarting from byte 0",
			location, resp.Header.Get("Content-Range"))}

	case http.StatusRequestedRangeNotSatisfiable:
		if err := t.restart(); err != nil {
			return err
		}
		return &transientError{fmt.Errorf("hub: GET %s: range not satisfiable; restarting from byte 0", location)}
	}

	err := statusError(resp, t.req, tokenSent)
	if !t.meta.sendToken {
		// The hub has already confirmed that the file exists and may be
		// read, so a failure at the storage host is not a missing file or a
		// missing token, and its X-Error-Code headers mean nothing here.
		var httpErr *HTTPError
		if errors.As(err, &httpErr) {
			httpErr.kind = nil
		}
	}
	return err
}

// copyBody appends body to the file. The timer cancels reqCtx when no data
// arrives for timeout, and each block that arrives resets it.
func (t *transfer) copyBody(ctx, reqCtx context.Context, body io.Reader, timer *time.Timer, timeout time.Duration) error {
	if _, err := t.file.Seek(t.offset, io.SeekStart); err != nil {
		return fmt.Errorf("hub: seek in partial download: %w", err)
	}

	// Reading one byte past the announced size detects an oversized body
	// without writing an unbounded amount.
	body = io.LimitReader(body, t.meta.size-t.offset+1)
	buf := make([]byte, readBufferSize)
	for {
		n, readErr := body.Read(buf)
		if n > 0 {
			timer.Reset(timeout)
			if t.offset+int64(n) > t.meta.size {
				if err := t.restart(); err != nil {
					return err
				}
				return fmt.Errorf("hub: GET %s: server sent more than the announced %d bytes of %q",
					redactURL(t.meta.location), t.meta.size, t.req.filename)
			}
			if _, err := t.file.Write(buf[:n]); err != nil {
				return fmt.Errorf("hub: write partial download: %w", err)
			}
			t.offset += int64(n)
			t.reportProgress()
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			return requestError(ctx, reqCtx, "GET", t.meta.location, readErr)
		}
	}

	if t.offset < t.meta.size {
		return &transientError{fmt.Errorf("hub: GET %s: response ended after byte %d of %d",
			redactURL(t.meta.location), t.offset, t.meta.size)}
	}
	return nil
}

// restart empties the file so that the next request starts from byte 0.
func (t *transfer) restart() error {
	if err := t.file.Truncate(0); err != nil {
		return fmt.Errorf("hub: truncate partial download: %w", err)
	}
	t.offset = 0
	t.reportProgress()
	return nil
}

func (t *transfer) reportProgress() {
	if t.client.Progress != nil {
		t.client.Progress(t.req.filename, t.offset, t.meta.size)
	}
}

// verify checks the size of the complete file and, when the ETag is a
// SHA-256 (LFS files), its hash. Other ETags are git blob ids of the
// repository content, which this package does not recompute.
func (t *transfer) verify() error {
	info, err := t.file.Stat()
	if err != nil {
		return fmt.Errorf("hub: inspect download: %w", err)
	}
	if info.Size() != t.meta.size {
		return fmt.Errorf("hub: download of %q from repository %q has %d bytes, but the hub announced %d; the download was deleted, run it again",
			t.req.filename, t.req.repoID, info.Size(), t.meta.size)
	}
	if !isSHA256Hex(t.meta.etag) {
		return nil
	}

	if _, err := t.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("hub: seek in download: %w", err)
	}
	hash := sha256.New()
	if _, err := io.Copy(hash, t.file); err != nil {
		return fmt.Errorf("hub: hash download: %w", err)
	}
	actual := hex.EncodeToString(hash.Sum(nil))
	if actual != t.meta.etag {
		return &ChecksumError{RepoID: t.req.repoID, Filename: t.req.filename, Expected: t.meta.etag, Actual: actual}
	}
	return nil
}

// contentRangeStart returns the first byte position of a Content-Range value
// such as "bytes 100-199/200".
func contentRangeStart(value string) (int64, error) {
	rest, ok := strings.CutPrefix(value, "bytes ")
	if !ok {
		return 0, errors.New("not a byte range")
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, errors.New("missing '-'")
	}
	return strconv.ParseInt(first, 10, 64)
}
