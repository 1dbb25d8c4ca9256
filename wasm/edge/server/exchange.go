package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
)

// Exchange runs one request through an http.Handler on its own goroutine
// while the request body arrives in chunks through WriteBody and EndBody.
// The wasm bridge calls these methods synchronously from JavaScript. Under
// js/wasm the Go runtime runs every runnable goroutine before control goes
// back to JavaScript, so when JavaScript continues after a call, the
// handler has consumed what it was given and has either returned or is
// waiting for more body. A call's own return value is computed before
// that, which is why WriteBody can report a finished handler one chunk
// late and the bridge offers Done.
type Exchange struct {
	method   string
	body     *chunkBody
	response *bufferedResponse
	done     chan struct{}
}

// StartExchange starts serving r with h. r.Body is replaced by the chunks
// that WriteBody delivers.
func StartExchange(h http.Handler, r *http.Request) *Exchange {
	e := &Exchange{
		method:   r.Method,
		body:     newChunkBody(),
		response: &bufferedResponse{header: http.Header{}},
		done:     make(chan struct{}),
	}
	r.Body = e.body
	go func() {
		defer close(e.done)
		defer e.body.Close()
		h.ServeHTTP(e.response, r)
	}()
	return e
}

// WriteBody delivers the next chunk of the body, which the exchange keeps.
// It returns false once the handler has returned (it may have responded
// 413 to a body that is too large), so that the caller stops sending.
func (e *Exchange) WriteBody(chunk []byte) bool {
	return e.body.push(chunk)
}

// EndBody ends the body: io.EOF when it is complete, another error when
// reading it failed.
func (e *Exchange) EndBody(err error) {
	e.body.end(err)
}

// Done reports whether the handler has returned.
func (e *Exchange) Done() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// Wait blocks until the handler returns. The wasm bridge never calls it,
// because blocking inside a JavaScript call would stop the event loop.
func (e *Exchange) Wait() { <-e.done }

// Response returns what the handler wrote. The body is empty for HEAD, as
// net/http's server would send it. Call it only once Done is true.
func (e *Exchange) Response() (status int, header http.Header, body []byte) {
	status = e.response.status
	if status == 0 {
		status = http.StatusOK
	}
	body = e.response.body.Bytes()
	if e.method == http.MethodHead {
		body = nil
	}
	return status, e.response.header, body
}

// errBodyClosed is returned to a handler that reads its body after it has
// been closed.
var errBodyClosed = errors.New("request body closed")

// chunkBody is a request body fed by push and end and read by the handler.
type chunkBody struct {
	mu     sync.Mutex
	ready  sync.Cond // signalled when chunks, end or Close change
	chunks [][]byte
	ended  error // io.EOF or the read error, once end is called
	closed bool  // the handler is done with the body
}

func newChunkBody() *chunkBody {
	b := &chunkBody{}
	b.ready.L = &b.mu
	return b
}

func (b *chunkBody) push(chunk []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.ended != nil {
		return false
	}
	if len(chunk) > 0 {
		b.chunks = append(b.chunks, chunk)
		b.ready.Broadcast()
	}
	return true
}

func (b *chunkBody) end(err error) {
	if err == nil {
		err = io.EOF
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended == nil {
		b.ended = err
		b.ready.Broadcast()
	}
}

// Read returns buffered chunks, waiting for one when none is buffered and
// the body has not ended.
func (b *chunkBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.chunks) == 0 && b.ended == nil && !b.closed {
		b.ready.Wait()
	}
	if b.closed {
		return 0, errBodyClosed
	}
	if len(b.chunks) == 0 {
		return 0, b.ended
	}
	n := copy(p, b.chunks[0])
	if n == len(b.chunks[0]) {
		b.chunks[0] = nil
		b.chunks = b.chunks[1:]
	} else {
		b.chunks[0] = b.chunks[0][n:]
	}
	return n, nil
}

// Close drops buffered chunks; later pushes return false.
func (b *chunkBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.chunks = nil
	b.ready.Broadcast()
	return nil
}

// bufferedResponse is an http.ResponseWriter that keeps the response in
// memory until the bridge turns it into a JavaScript Response.
type bufferedResponse struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *bufferedResponse) Header() http.Header { return r.header }

func (r *bufferedResponse) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
}

func (r *bufferedResponse) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
