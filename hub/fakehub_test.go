package hub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testCommit = "0123456789abcdef0123456789abcdef01234567"
	testToken  = "hf_testtoken"
	// cdnSignature stands for the signed query of a real CDN URL, which
	// must not appear in errors or logs.
	cdnSignature = "X-Amz-Signature=secretsignature"
)

// fakeFile is one file in a fakeHub repository.
type fakeFile struct {
	content []byte
	// lfs files get a 302 to the CDN server, with X-Linked-Etag set to the
	// SHA-256 of content (or announcedSHA) and X-Linked-Size.
	lfs bool
	// announcedSHA, if set, replaces the real SHA-256 in X-Linked-Etag.
	announcedSHA string
	// announcedSize, if non-negative, replaces the size in the HEAD response.
	announcedSize int64
	// weakETag sends the ETag of a non-LFS file as W/"...".
	weakETag bool
}

func lfsFile(content []byte) *fakeFile {
	return &fakeFile{content: content, lfs: true, announcedSize: -1}
}

func gitFile(content []byte) *fakeFile {
	return &fakeFile{content: content, announcedSize: -1}
}

func (f *fakeFile) sha256() string {
	if f.announcedSHA != "" {
		return f.announcedSHA
	}
	sum := sha256.Sum256(f.content)
	return hex.EncodeToString(sum[:])
}

// gitBlobID is the id that git gives the content, which the hub sends as
// the ETag of files not stored in LFS.
func gitBlobID(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// recordedRequest is one request that a fakeHub server received.
type recordedRequest struct {
	server        string // "hub" or "cdn"
	method        string
	path          string // escaped path
	rangeHeader   string
	authorization string
}

// fakeHub imitates the resolve endpoint of the Hugging Face hub on one
// httptest server and LFS storage on a second one, so that the two have
// different hosts, as the hub and its CDN do.
type fakeHub struct {
	t   *testing.T
	hub *httptest.Server
	cdn *httptest.Server

	mu       sync.Mutex
	repos    map[string]map[string]*fakeFile // repository id, then filename
	private  map[string]bool                 // repositories that require testToken
	gated    map[string]bool                 // repositories that respond 403 GatedRepo
	renamed  map[string]string               // old repository id to new one
	requests []recordedRequest

	// headStatus, if non-zero, is the status of every HEAD response.
	headStatus int
	// headDelay delays every HEAD response.
	headDelay time.Duration
	// commitHeader and etagHeader, if set, replace the X-Repo-Commit and
	// X-Linked-Etag values.
	commitHeader string
	etagHeader   string
	// omitErrorCode sends 404 responses without X-Error-Code.
	omitErrorCode bool
	// relativeLFSRedirect redirects LFS files to /cdn/{sha} on the hub
	// server instead of the CDN server.
	relativeLFSRedirect bool
	// cdnStatus, if non-zero, is the status of every CDN response.
	cdnStatus int
	// cutAfter is the number of bytes after which the next cuts content
	// responses drop the connection.
	cutAfter int
	cuts     int
	// stallAfter is the number of bytes after which the next stalls content
	// responses stop sending until the client gives up.
	stallAfter int
	stalls     int
	// ignoreRange makes content responses send the whole file with 200.
	ignoreRange bool
	// trickleDelay, if set, makes content responses send the file in 10
	// parts with this pause before each.
	trickleDelay time.Duration
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	f := &fakeHub{
		t:       t,
		repos:   map[string]map[string]*fakeFile{},
		private: map[string]bool{},
		gated:   map[string]bool{},
		renamed: map[string]string{},
	}
	f.hub = httptest.NewServer(f.record("hub", http.HandlerFunc(f.serveHub)))
	f.cdn = httptest.NewServer(f.record("cdn", http.HandlerFunc(f.serveCDN)))
	t.Cleanup(f.cdn.Close)
	t.Cleanup(f.hub.Close)
	return f
}

func (f *fakeHub) addFile(repoID, filename string, file *fakeFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.repos[repoID] == nil {
		f.repos[repoID] = map[string]*fakeFile{}
	}
	f.repos[repoID][filename] = file
}

func (f *fakeHub) record(server string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, recordedRequest{
			server:        server,
			method:        r.Method,
			path:          r.URL.EscapedPath(),
			rangeHeader:   r.Header.Get("Range"),
			authorization: r.Header.Get("Authorization"),
		})
		f.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// requestLog returns a copy of the requests received so far.
func (f *fakeHub) requestLog() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

func (f *fakeHub) requestCount() int {
	return len(f.requestLog())
}

// client returns a Client for this server with its cache in a new temporary
// folder, no retries and short timeouts.
func (f *fakeHub) client() *Client {
	return &Client{
		Endpoint:        f.hub.URL,
		CacheDir:        f.t.TempDir(),
		HTTP:            f.hub.Client(),
		MetadataTimeout: 5 * time.Second,
		ReadTimeout:     5 * time.Second,
		retryWait:       time.Millisecond,
	}
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if sha, ok := strings.CutPrefix(path, "/cdn/"); ok {
		f.serveContent(w, r, sha)
		return
	}
	repoID, rest, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/resolve/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	escapedRevision, escapedFile, _ := strings.Cut(rest, "/")
	revision, err1 := url.PathUnescape(escapedRevision)
	filename, err2 := url.PathUnescape(escapedFile)
	if err1 != nil || err2 != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodHead && f.headDelay > 0 {
		select {
		case <-time.After(f.headDelay):
		case <-r.Context().Done():
			return
		}
	}
	if r.Method == http.MethodHead && f.headStatus != 0 {
		w.WriteHeader(f.headStatus)
		return
	}
	if newID, ok := f.renamed[repoID]; ok {
		http.Redirect(w, r, "/"+newID+"/resolve/"+escapedRevision+"/"+escapedFile, http.StatusTemporaryRedirect)
		return
	}
	if f.gated[repoID] {
		w.Header().Set("X-Error-Code", "GatedRepo")
		w.Header().Set("X-Error-Message", "Access to this model is restricted.")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if f.private[repoID] && r.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	files, ok := f.repos[repoID]
	if !ok {
		f.notFound(w, "RepoNotFound", "")
		return
	}
	if revision != "main" && revision != "refs/pr/1" && revision != testCommit {
		f.notFound(w, "RevisionNotFound", "")
		return
	}
	file, ok := files[filename]
	if !ok {
		f.notFound(w, "EntryNotFound", testCommit)
		return
	}

	commit := testCommit
	if f.commitHeader != "" {
		commit = f.commitHeader
	}
	w.Header().Set("X-Repo-Commit", commit)
	size := int64(len(file.content))
	if file.announcedSize >= 0 {
		size = file.announcedSize
	}

	if file.lfs {
		etag := file.sha256()
		if f.etagHeader != "" {
			etag = f.etagHeader
		}
		w.Header().Set("X-Linked-Etag", `"`+etag+`"`)
		w.Header().Set("X-Linked-Size", strconv.FormatInt(size, 10))
		// The hub's own ETag of an LFS file identifies the pointer file, so
		// a client that prefers it over X-Linked-Etag stores a wrong blob.
		w.Header().Set("ETag", `"`+gitBlobID([]byte("pointer"))+`"`)
		target := f.cdn.URL + "/blobs/" + file.sha256() + "?" + cdnSignature
		if f.relativeLFSRedirect {
			target = "/cdn/" + file.sha256()
		}
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusFound)
		return
	}

	etag := `"` + gitBlobID(file.content) + `"`
	if f.etagHeader != "" {
		etag = `"` + f.etagHeader + `"`
	}
	if file.weakETag {
		etag = "W/" + etag
	}
	w.Header().Set("ETag", etag)
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(file.content))
}

// notFound responds 404 with the hub's X-Error-Code header, and with
// X-Repo-Commit when commit is set, as the hub does for a missing file.
func (f *fakeHub) notFound(w http.ResponseWriter, code, commit string) {
	if !f.omitErrorCode {
		w.Header().Set("X-Error-Code", code)
	}
	if commit != "" {
		w.Header().Set("X-Repo-Commit", commit)
	}
	w.WriteHeader(http.StatusNotFound)
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	sha, ok := strings.CutPrefix(r.URL.Path, "/blobs/")
	if !ok || r.URL.RawQuery != cdnSignature {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	f.serveContent(w, r, sha)
}

// serveContent sends the LFS file whose URL names sha, with Range support
// from http.ServeContent, unless a cut, stall or forced status applies.
func (f *fakeHub) serveContent(w http.ResponseWriter, r *http.Request, sha string) {
	f.mu.Lock()
	var file *fakeFile
	for _, files := range f.repos {
		for _, candidate := range files {
			if candidate.lfs && candidate.sha256() == sha {
				file = candidate
			}
		}
	}
	status := f.cdnStatus
	cut := f.cuts > 0 && r.Method == http.MethodGet
	if cut {
		f.cuts--
	}
	stall := !cut && f.stalls > 0 && r.Method == http.MethodGet
	if stall {
		f.stalls--
	}
	cutAfter, stallAfter, ignoreRange, trickleDelay := f.cutAfter, f.stallAfter, f.ignoreRange, f.trickleDelay
	f.mu.Unlock()

	switch {
	case file == nil:
		http.NotFound(w, r)
	case status != 0:
		w.WriteHeader(status)
	case cut:
		sendPrefix(w, file.content, cutAfter)
		// Aborting the handler closes the connection in the middle of the
		// announced Content-Length.
		panic(http.ErrAbortHandler)
	case stall:
		sendPrefix(w, file.content, stallAfter)
		<-r.Context().Done()
	case trickleDelay > 0:
		w.Header().Set("Content-Length", strconv.Itoa(len(file.content)))
		part := (len(file.content) + 9) / 10
		for rest := file.content; len(rest) > 0; {
			time.Sleep(trickleDelay)
			n := min(part, len(rest))
			w.Write(rest[:n])
			w.(http.Flusher).Flush()
			rest = rest[n:]
		}
	case ignoreRange:
		w.Header().Set("Content-Length", strconv.Itoa(len(file.content)))
		w.Write(file.content)
	default:
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(file.content))
	}
}

// sendPrefix announces the whole content but sends only its first n bytes.
func sendPrefix(w http.ResponseWriter, content []byte, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	w.Write(content[:n])
	w.(http.Flusher).Flush()
}

// testContent returns n bytes that differ at every position modulo 251, so
// that a misplaced resume produces different bytes.
func testContent(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}
