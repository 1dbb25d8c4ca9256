// Package hub downloads files from Hugging Face hub model repositories into
// the cache layout that the huggingface_hub Python library uses, so that the
// two share downloads:
//
//	{cache}/models--{namespace}--{name}/blobs/{etag}
//	{cache}/models--{namespace}--{name}/snapshots/{commit}/{filename} -> ../../blobs/{etag}
//	{cache}/models--{namespace}--{name}/refs/{revision}   (contains the commit id)
//
// A file is found through a HEAD request on
// {endpoint}/{repo}/resolve/{revision}/{filename}, which returns the commit,
// the ETag and the size, and for LFS files a redirect to a CDN. The content
// is then fetched with GET into blobs/{etag}.incomplete, resumed with a Range
// request after an interruption, and checked against the announced size and,
// for LFS files, against the SHA-256 that the ETag carries.
//
// The package follows huggingface_hub 1.29 (file_download.py and
// constants.py at commit ee0a4510), with three differences. A cached branch
// is not re-checked with the hub unless Client.Revalidate is set. LFS content
// is verified by hash. A partial download stays in blobs/{etag}.incomplete
// for a later call to resume, as huggingface_hub did up to 1.17, whereas 1.18
// and later download into a temporary file per process and never resume
// across calls.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults that NewClientFromEnv and a zero Client use.
const (
	DefaultEndpoint = "https://huggingface.co"
	DefaultRevision = "main"

	// DefaultMetadataTimeout and DefaultReadTimeout match the 10 s that
	// huggingface_hub 1.29 uses for HF_HUB_ETAG_TIMEOUT and
	// HF_HUB_DOWNLOAD_TIMEOUT.
	DefaultMetadataTimeout = 10 * time.Second
	DefaultReadTimeout     = 10 * time.Second

	// DefaultMaxRetries matches the number of resume attempts in
	// huggingface_hub 1.29 (http_get).
	DefaultMaxRetries = 5
)

const userAgent = "github.com/d2vgo/d2v/hub"

// Client downloads files from the hub into a local cache. The zero value
// works but has no cache directory, so most callers start from
// NewClientFromEnv and change fields before the first call. A Client is safe
// for concurrent use once its fields are set.
type Client struct {
	// Endpoint is the hub base URL without a trailing slash. Empty means
	// DefaultEndpoint.
	Endpoint string
	// Token is sent as "Authorization: Bearer {Token}" to the endpoint's
	// host, and never to a CDN on another host or to the logger.
	Token string
	// CacheDir is the hub cache directory, the one that contains
	// models--*/ folders. Download fails when it is empty.
	CacheDir string
	// HTTP sends the requests. Nil means http.DefaultClient. Metadata
	// requests use a copy that does not follow redirects. Leave its Timeout
	// at zero, because it would also cap the duration of large downloads.
	// MetadataTimeout and ReadTimeout bound the waits instead.
	HTTP *http.Client
	// Offline makes Download use the cache only and send no request.
	Offline bool
	// Revalidate makes Download resolve a branch or tag with the hub even
	// when refs/ already maps it to a cached file, as huggingface_hub does.
	// If the hub is unreachable, responds 408, 429 or 5xx, or sends
	// incomplete metadata, Download then falls back to the cached file.
	Revalidate bool
	// MetadataTimeout bounds each HEAD request, including connecting. Zero
	// means DefaultMetadataTimeout.
	MetadataTimeout time.Duration
	// ReadTimeout bounds the wait for the GET response headers, including
	// connecting, and then the wait for each piece of the body. A transfer
	// that stalls longer fails as a transient error. Zero means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// MaxRetries is the number of new GET requests that one Download sends
	// after a transient failure: a dropped connection, a stall, or status
	// 408, 429 or 5xx. Each one resumes from the bytes already on disk.
	// The count restarts whenever a request has delivered data. Zero
	// disables retries.
	MaxRetries int
	// Progress, if set, is called from the downloading goroutine before the
	// first byte and after each block written, with the bytes on disk and
	// the file size, or -1 when the size is unknown. The last call of a
	// successful transfer has done == total. It is not called for files
	// that are already cached. ProgressBar.Update fits here.
	Progress func(file string, done, total int64)
	// Logger receives debug and info records about cache hits, requests and
	// retries. Nil discards them.
	Logger *slog.Logger

	// retryWait is the pause before a retry. Zero means one second, the
	// pause in huggingface_hub 1.29. Tests shorten it.
	retryWait time.Duration
}

// NewClientFromEnv returns a Client configured from the environment variables
// that huggingface_hub reads:
//
//   - HF_ENDPOINT: hub base URL (default https://huggingface.co)
//   - HF_TOKEN, or the older HUGGING_FACE_HUB_TOKEN: access token
//   - HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME: see DefaultCacheDir
//   - HF_HUB_OFFLINE, or TRANSFORMERS_OFFLINE: "1", "ON", "YES" or "TRUE" in any case enables offline mode
//   - HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT: MetadataTimeout and ReadTimeout in whole seconds
//
// It sets MaxRetries to DefaultMaxRetries. When no cache directory can be
// determined, CacheDir stays empty and Download returns an error that names
// the variables to set.
func NewClientFromEnv() *Client {
	c := &Client{
		Endpoint:        strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"),
		Token:           firstEnv("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
		Offline:         envIsTrue("HF_HUB_OFFLINE") || envIsTrue("TRANSFORMERS_OFFLINE"),
		MetadataTimeout: envSeconds("HF_HUB_ETAG_TIMEOUT"),
		ReadTimeout:     envSeconds("HF_HUB_DOWNLOAD_TIMEOUT"),
		MaxRetries:      DefaultMaxRetries,
	}
	if dir, err := DefaultCacheDir(); err == nil {
		c.CacheDir = dir
	}
	return c
}

// DefaultCacheDir returns the hub cache directory that huggingface_hub 1.29
// uses: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. Empty
// variables count as unset, and a leading "~" expands to the home directory.
func DefaultCacheDir() (string, error) {
	if dir := firstEnv("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"); dir != "" {
		return expandHome(dir)
	}
	if home := os.Getenv("HF_HOME"); home != "" {
		dir, err := expandHome(home)
		return filepath.Join(dir, "hub"), err
	}
	if xdg := os.Getenv("XDG_CACHE_HOME"); xdg != "" {
		dir, err := expandHome(xdg)
		return filepath.Join(dir, "huggingface", "hub"), err
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: no cache directory: set HF_HUB_CACHE or HF_HOME (%w)", err)
	}
	return filepath.Join(home, ".cache", "huggingface", "hub"), nil
}

func firstEnv(names ...string) string {
	for _, name := range names {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			return v
		}
	}
	return ""
}

func envIsTrue(name string) bool {
	switch strings.ToUpper(os.Getenv(name)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// envSeconds returns the variable as a duration in whole seconds, or zero
// (the default) when it is unset or not a positive integer.
func envSeconds(name string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(os.Getenv(name)))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: cannot expand %q: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// Download returns the local path of filename from repository repoID at
// revision, downloading it into the cache if needed. An empty revision means
// "main". The path is the snapshot entry
// {CacheDir}/models--{namespace}--{name}/snapshots/{commit}/{filename}.
//
// Download sends no request when the cache already has the file, either
// because revision is a commit id with that snapshot file, or because
// refs/{revision} names a commit that has it. Unlike huggingface_hub, a
// cached branch is therefore not checked for new commits; set Revalidate, or
// pass a commit id, to follow a branch. The same applies to a file that the
// hub reported missing at that commit, which the cache records under
// .no_exist/ as huggingface_hub does.
//
// Otherwise it sends a HEAD request for the metadata and a GET request for
// the content, resuming a partial blobs/{etag}.incomplete left by an earlier
// call. For LFS files, whose ETag is a SHA-256, Download hashes the complete
// file and returns a *ChecksumError on mismatch. For other files it checks
// the size only.
//
// Errors wrap ErrRepoNotFound, ErrRevisionNotFound, ErrEntryNotFound,
// ErrNotFound, ErrUnauthorized or ErrNotCached where those apply (see
// IsNotFound), *HTTPError for other statuses, and ctx.Err() on cancellation.
func (c *Client) Download(ctx context.Context, repoID, revision, filename string) (string, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	if err := ValidateRepoID(repoID); err != nil {
		return "", err
	}
	if err := validateRevision(revision); err != nil {
		return "", err
	}
	if err := ValidateFilename(filename); err != nil {
		return "", err
	}
	if c.CacheDir == "" {
		return "", errors.New("hub: no cache directory: set Client.CacheDir, HF_HUB_CACHE or HF_HOME")
	}

	repo := c.repoCache(repoID)
	log := c.logger().With("repo", repoID, "revision", revision, "file", filename)

	// A commit id pins the content, so a cached snapshot is always current.
	if !c.Revalidate || c.Offline || isCommitHash(revision) {
		path, err := repo.lookup(revision, filename)
		if path != "" {
			log.Debug("hub: cache hit", "path", path)
			return path, nil
		}
		if errors.Is(err, ErrEntryNotFound) {
			log.Debug("hub: cache records the file as missing")
			return "", fmt.Errorf("hub: file %q not found in repository %q at revision %q (recorded in the cache): %w",
				filename, repoID, revision, err)
		}
	}
	if c.Offline {
		return "", fmt.Errorf("hub: file %q of repository %q at revision %q: %w; unset HF_HUB_OFFLINE or download it while online",
			filename, repoID, revision, ErrNotCached)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	req := fileRequest{repoID: repoID, revision: revision, filename: filename}
	meta, err := c.fetchMetadata(ctx, req)
	if err != nil {
		return c.handleMetadataError(ctx, repo, req, err)
	}
	log = log.With("commit", meta.commit)

	if revision != meta.commit {
		if err := repo.writeRef(revision, meta.commit); err != nil {
			// The download still works without the ref, but the next call
			// cannot find the file without asking the hub.
			log.Warn("hub: cannot record the revision in the cache", "err", err)
		}
	}

	pointer := repo.snapshotPath(meta.commit, filename)
	if fileExists(pointer) {
		log.Debug("hub: file already cached for this commit", "path", pointer)
		return pointer, nil
	}

	// Another goroutine may be fetching the same blob, and after it is done
	// the blob exists and only the snapshot entry is missing.
	unlock, err := lockBlob(ctx, repo.blobPath(meta.etag))
	if err != nil {
		return "", err
	}
	defer unlock()
	if fileExists(repo.blobPath(meta.etag)) {
		log.Debug("hub: blob already cached", "etag", meta.etag)
	} else if err := c.fetchBlob(ctx, repo, req, meta, log); err != nil {
		return "", err
	}
	if err := repo.linkSnapshot(meta.commit, filename, meta.etag, log); err != nil {
		return "", err
	}
	return pointer, nil
}

// handleMetadataError records a missing file in the cache, and in Revalidate
// mode falls back to the cached file when the hub is unreachable or failing.
func (c *Client) handleMetadataError(ctx context.Context, repo repoCache, req fileRequest, err error) (string, error) {
	log := c.logger().With("repo", req.repoID, "revision", req.revision, "file", req.filename)

	var httpErr *HTTPError
	if errors.As(err, &httpErr) && errors.Is(err, ErrEntryNotFound) && isCommitHash(httpErr.commit) {
		repo.recordMissing(req.revision, httpErr.commit, req.filename, log)
	}

	fallback := ctx.Err() == nil && (isTransient(err) || errors.Is(err, errMetadata))
	if fallback {
		if path, cacheErr := repo.lookup(req.revision, req.filename); path != "" && cacheErr == nil {
			log.Warn("hub: cannot reach the hub, using the cached file", "path", path, "err", err)
			return path, nil
		}
	}
	return "", err
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) endpoint() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(c.Endpoint, "/")
}

func (c *Client) metadataTimeout() time.Duration {
	if c.MetadataTimeout > 0 {
		return c.MetadataTimeout
	}
	return DefaultMetadataTimeout
}

func (c *Client) readTimeout() time.Duration {
	if c.ReadTimeout > 0 {
		return c.ReadTimeout
	}
	return DefaultReadTimeout
}

func (c *Client) retryDelay() time.Duration {
	if c.retryWait > 0 {
		return c.retryWait
	}
	return time.Second
}

// fileRequest is the repository, revision and filename of one Download call.
type fileRequest struct {
	repoID, revision, filename string
}

// resolveURL returns {endpoint}/{repo}/resolve/{revision}/{filename}. The
// revision is escaped as one path segment, so "refs/pr/1" becomes
// "refs%2Fpr%2F1", as hf_hub_url does in huggingface_hub 1.29.
func (c *Client) resolveURL(req fileRequest) (*url.URL, error) {
	segments := strings.Split(req.filename, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	raw := c.endpoint() + "/" + req.repoID + "/resolve/" + url.PathEscape(req.revision) + "/" + strings.Join(segments, "/")
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("hub: invalid endpoint %q: %w", c.endpoint(), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("hub: invalid endpoint %q: the scheme must be http or https", c.endpoint())
	}
	return u, nil
}

// redactURL formats u without user information and query, which can carry
// credentials or CDN signatures.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	clean := *u
	clean.User = nil
	clean.RawQuery = ""
	clean.ForceQuery = false
	clean.Fragment = ""
	clean.RawFragment = ""
	return clean.String()
}
