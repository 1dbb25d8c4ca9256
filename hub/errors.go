package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error kinds that Download wraps. Test for them with errors.Is, or with
// IsNotFound for all the kinds that mean that the file cannot be obtained.
var (
	// ErrRepoNotFound is wrapped when the hub reports X-Error-Code
	// RepoNotFound. The hub also uses it for private and gated repositories
	// that the token (or its absence) does not give access to.
	ErrRepoNotFound = errors.New("repository not found")
	// ErrRevisionNotFound is wrapped when the hub reports X-Error-Code
	// RevisionNotFound.
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrEntryNotFound is wrapped when the hub reports X-Error-Code
	// EntryNotFound, or when the cache records that the file does not exist
	// at the resolved commit.
	ErrEntryNotFound = errors.New("file not found")
	// ErrNotFound is wrapped for a 404 response without an X-Error-Code
	// header, which does not say whether the repository or the file is missing.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized is wrapped for 401 and 403 responses that are not
	// RepoNotFound.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotCached is wrapped when offline mode is on and the file is not in
	// the cache.
	ErrNotCached = errors.New("not in cache and offline mode is on")
)

// IsNotFound reports whether err means that the requested file cannot be
// obtained because it, its revision or its repository does not exist, or
// because offline mode is on and the cache lacks it. A caller can then try
// another file name, such as pytorch_model.bin after model.safetensors.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrEntryNotFound) ||
		errors.Is(err, ErrRepoNotFound) ||
		errors.Is(err, ErrRevisionNotFound) ||
		errors.Is(err, ErrNotFound) ||
		errors.Is(err, ErrNotCached)
}

// HTTPError is an unsuccessful hub response to a metadata or download request.
type HTTPError struct {
	RepoID   string
	Revision string
	Filename string
	// Method and URL of the failed request. The URL has its query removed,
	// because CDN URLs carry signatures there.
	Method string
	URL    string
	// StatusCode and Status are the response status, for example 404 and
	// "404 Not Found".
	StatusCode int
	Status     string
	// ErrorCode and ServerMessage are the X-Error-Code and X-Error-Message
	// response headers, empty when absent.
	ErrorCode     string
	ServerMessage string
	// TokenSent records whether the request carried an Authorization header.
	TokenSent bool

	kind   error
	commit string // X-Repo-Commit of the response, which a 404 for a missing file carries
}

// newHTTPError classifies resp by its status and X-Error-Code header.
func newHTTPError(resp *http.Response, repoID, revision, filename string, tokenSent bool) *HTTPError {
	e := &HTTPError{
		RepoID:        repoID,
		Revision:      revision,
		Filename:      filename,
		Method:        resp.Request.Method,
		URL:           redactURL(resp.Request.URL),
		StatusCode:    resp.StatusCode,
		Status:        resp.Status,
		ErrorCode:     resp.Header.Get("X-Error-Code"),
		ServerMessage: resp.Header.Get("X-Error-Message"),
		TokenSent:     tokenSent,
		commit:        resp.Header.Get("X-Repo-Commit"),
	}

	// The error code takes precedence over the status because the hub
	// responds 401 with RepoNotFound for private repositories
	// (huggingface_hub 1.29, utils/_http.py, hf_raise_for_status).
	switch {
	case e.ErrorCode == "RepoNotFound":
		e.kind = ErrRepoNotFound
	case e.ErrorCode == "RevisionNotFound":
		e.kind = ErrRevisionNotFound
	case e.ErrorCode == "EntryNotFound":
		e.kind = ErrEntryNotFound
	case resp.StatusCode == http.StatusNotFound:
		e.kind = ErrNotFound
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.kind = ErrUnauthorized
	}
	return e
}

// Unwrap returns the error kind, such as ErrEntryNotFound, or nil for a
// status without a kind.
func (e *HTTPError) Unwrap() error { return e.kind }

func (e *HTTPError) Error() string {
	var b strings.Builder
	b.WriteString("hub: ")
	status := fmt.Sprintf("HTTP %d", e.StatusCode)

	switch e.kind {
	case ErrRepoNotFound:
		fmt.Fprintf(&b, "repository %q not found (%s)", e.RepoID, status)
		b.WriteString("; check the repository id, and for a private or gated repository ")
		b.WriteString(e.tokenAdvice())
	case ErrRevisionNotFound:
		fmt.Fprintf(&b, "revision %q not found in repository %q (%s)", e.Revision, e.RepoID, status)
	case ErrEntryNotFound:
		fmt.Fprintf(&b, "file %q not found in repository %q at revision %q (%s)", e.Filename, e.RepoID, e.Revision, status)
	case ErrNotFound:
		fmt.Fprintf(&b, "repository %q or its file %q at revision %q not found (%s from %s)",
			e.RepoID, e.Filename, e.Revision, status, e.URL)
	case ErrUnauthorized:
		if e.ErrorCode == "GatedRepo" {
			fmt.Fprintf(&b, "repository %q is gated (%s); accept its access conditions on the hub, then ", e.RepoID, status)
		} else {
			fmt.Fprintf(&b, "access to %q in repository %q denied (%s); ", e.Filename, e.RepoID, status)
		}
		b.WriteString(e.tokenAdvice())
	default:
		fmt.Fprintf(&b, "%s %s for file %q in repository %q at revision %q: unexpected status %s",
			e.Method, e.URL, e.Filename, e.RepoID, e.Revision, e.Status)
	}

	if e.ServerMessage != "" {
		fmt.Fprintf(&b, " (server message: %s)", e.ServerMessage)
	}
	return b.String()
}

func (e *HTTPError) tokenAdvice() string {
	if e.TokenSent {
		return "check that the token in HF_TOKEN is valid and has read access to it"
	}
	return "set HF_TOKEN to an access token with read access to it"
}

// ChecksumError reports a downloaded file whose SHA-256 differs from the
// hash that the hub announced for it. Download deletes the partial file
// before returning it, so a retry starts from zero.
type ChecksumError struct {
	RepoID   string
	Filename string
	Expected string // lowercase hex
	Actual   string // lowercase hex
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("hub: checksum mismatch for %q in repository %q: expected sha256 %s, got %s; the download was deleted, run it again",
		e.Filename, e.RepoID, e.Expected, e.Actual)
}

// transientError marks a failure that a new request may not repeat: a
// dropped connection, a stalled transfer, 408, 429 or a 5xx status.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}
