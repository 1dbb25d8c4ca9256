package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxMetadataRedirects bounds the same-host redirects that one metadata
// lookup follows, such as those of a renamed repository.
const maxMetadataRedirects = 10

// errMetadata is wrapped when a HEAD response lacks a header that a hub
// sends, which usually means HF_ENDPOINT or a proxy does not lead to a hub.
var errMetadata = errors.New("incomplete file metadata")

// fileMetadata is the commit, ETag, size and download URL of one file,
// taken from a HEAD response.
type fileMetadata struct {
	commit string // X-Repo-Commit
	// etag is X-Linked-Etag, else ETag, without quotes and "W/". For LFS
	// files it is the SHA-256 of the content, otherwise the git blob id.
	etag string
	size int64 // X-Linked-Size, else Content-Length of a non-redirect response
	// location is the URL to GET: the redirect target for LFS files,
	// otherwise the URL of the successful HEAD request.
	location *url.URL
	// sendToken is true when location is on the endpoint's host.
	sendToken bool
}

// fetchMetadata sends HEAD requests without following redirects, as
// get_hf_file_metadata in huggingface_hub 1.29 does. A redirect whose
// response carries X-Repo-Commit is the hub pointing an LFS file at its
// storage, so its Location becomes the download URL. A redirect without it
// that stays on the same host, as for a renamed repository, is followed with
// another HEAD request.
func (c *Client) fetchMetadata(ctx context.Context, req fileRequest) (fileMetadata, error) {
	u, err := c.resolveURL(req)
	if err != nil {
		return fileMetadata{}, err
	}
	endpointHost := u.Host

	timeout := c.metadataTimeout()
	headCtx, cancel := context.WithTimeoutCause(ctx, timeout, &timeoutError{wait: "HEAD response", timeout: timeout})
	defer cancel()

	client := *c.httpClient()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for range maxMetadataRedirects {
		resp, tokenSent, err := c.head(headCtx, &client, u)
		if err != nil {
			return fileMetadata{}, requestError(ctx, headCtx, "HEAD", u, err)
		}
		resp.Body.Close()

		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return parseMetadata(resp, u, false, endpointHost)
		}
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || resp.StatusCode == http.StatusNotModified {
			return fileMetadata{}, statusError(resp, req, tokenSent)
		}

		location := resp.Header.Get("Location")
		if location == "" {
			return fileMetadata{}, fmt.Errorf("hub: HEAD %s: redirect status %s without a Location header: %w",
				redactURL(u), resp.Status, errMetadata)
		}
		target, err := u.Parse(location)
		if err != nil {
			return fileMetadata{}, fmt.Errorf("hub: HEAD %s: invalid Location header: %w", redactURL(u), err)
		}
		if resp.Header.Get("X-Repo-Commit") != "" {
			return parseMetadata(resp, target, true, endpointHost)
		}
		if target.Host != u.Host {
			return fileMetadata{}, fmt.Errorf("hub: HEAD %s: redirect to %s without X-Repo-Commit; HF_ENDPOINT may not be a Hugging Face hub: %w",
				redactURL(u), redactURL(target), errMetadata)
		}
		c.logger().Debug("hub: following redirect", "from", redactURL(u), "to", redactURL(target))
		u = target
	}
	return fileMetadata{}, fmt.Errorf("hub: HEAD %s: more than %d redirects", redactURL(u), maxMetadataRedirects)
}

// head sends one HEAD request and reports whether it carried the token.
func (c *Client) head(ctx context.Context, client *http.Client, u *url.URL) (*http.Response, bool, error) {
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return nil, false, err
	}
	// Without this header a server may compress the response, and the
	// Content-Length would then not be the file size.
	httpReq.Header.Set("Accept-Encoding", "identity")
	httpReq.Header.Set("User-Agent", userAgent)
	tokenSent := c.Token != ""
	if tokenSent {
		httpReq.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := client.Do(httpReq)
	return resp, tokenSent, err
}

func parseMetadata(resp *http.Response, location *url.URL, redirected bool, endpointHost string) (fileMetadata, error) {
	where := redactURL(resp.Request.URL)
	meta := fileMetadata{
		commit:    resp.Header.Get("X-Repo-Commit"),
		etag:      normalizeETag(firstHeader(resp.Header, "X-Linked-Etag", "ETag")),
		location:  location,
		sendToken: location.Host == endpointHost,
	}

	if meta.commit == "" {
		return fileMetadata{}, fmt.Errorf("hub: HEAD %s: response has no X-Repo-Commit header; HF_ENDPOINT may not be a Hugging Face hub: %w",
			where, errMetadata)
	}
	if !isCommitHash(meta.commit) {
		return fileMetadata{}, fmt.Errorf("hub: HEAD %s: X-Repo-Commit %q is not a commit id: %w", where, meta.commit, errMetadata)
	}
	if meta.etag == "" {
		return fileMetadata{}, fmt.Errorf("hub: HEAD %s: response has neither X-Linked-Etag nor ETag: %w", where, errMetadata)
	}
	if err := validateETag(meta.etag); err != nil {
		return fileMetadata{}, fmt.Errorf("%w: %w", err, errMetadata)
	}

	// A redirect's Content-Length is the length of the redirect body, so
	// only X-Linked-Size gives the size of a redirected file.
	sizeHeader := resp.Header.Get("X-Linked-Size")
	if sizeHeader == "" && !redirected {
		sizeHeader = resp.Header.Get("Content-Length")
	}
	if sizeHeader == "" {
		return fileMetadata{}, fmt.Errorf("hub: HEAD %s: response has neither X-Linked-Size nor Content-Length: %w", where, errMetadata)
	}
	size, err := strconv.ParseInt(sizeHeader, 10, 64)
	if err != nil || size < 0 {
		return fileMetadata{}, fmt.Errorf("hub: HEAD %s: invalid file size %q: %w", where, sizeHeader, errMetadata)
	}
	meta.size = size
	return meta, nil
}

func firstHeader(h http.Header, names ...string) string {
	for _, name := range names {
		if v := h.Get(name); v != "" {
			return v
		}
	}
	return ""
}

// normalizeETag removes the weak-validator prefix W/ and the quotes, so that
// the ETag can serve as a file name.
func normalizeETag(etag string) string {
	etag = strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	return strings.Trim(etag, `"`)
}

// statusError turns an unsuccessful response into an *HTTPError, marked
// transient for 408, 429 and 5xx.
func statusError(resp *http.Response, req fileRequest, tokenSent bool) error {
	err := newHTTPError(resp, req.repoID, req.revision, req.filename, tokenSent)
	switch {
	case resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode >= 500:
		return &transientError{err}
	}
	return err
}

// requestError wraps a failure to get a response or to read its body. It
// returns the caller's context error when the caller cancelled, and
// otherwise marks the failure transient. reqCtx is the context of the
// request, whose cause is a *timeoutError when a Client timeout fired.
func requestError(ctx, reqCtx context.Context, method string, u *url.URL, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("hub: %s %s: %w", method, redactURL(u), context.Cause(ctx))
	}
	var timeout *timeoutError
	if errors.As(context.Cause(reqCtx), &timeout) {
		err = timeout
	} else {
		err = unwrapURLError(err)
	}
	return &transientError{fmt.Errorf("hub: %s %s: %w", method, redactURL(u), err)}
}

// timeoutError is the context cause when MetadataTimeout or ReadTimeout
// expires.
type timeoutError struct {
	wait    string // for example "response headers" or "data"
	timeout time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("timed out: no %s within %s", e.wait, e.timeout)
}

// unwrapURLError drops the *url.Error layer, whose message repeats the full
// URL including any signed query.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
