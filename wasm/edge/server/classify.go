package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/d2vgo/d2v/preprocess"
)

// Prediction is one label of a /classify response: the {"label", "score"}
// objects of transformers' image-classification pipeline plus the class
// index.
type Prediction struct {
	Label string  `json:"label"`
	Score float32 `json:"score"` // softmax probability
	Index int     `json:"index"`
}

// MultipartField is the form field that holds the image in a
// multipart/form-data request.
const MultipartField = "image"

// Sentinel errors of request parsing, mapped to status codes by classify.
var (
	errUnsupportedMediaType = errors.New("unsupported media type")
	errBadRequest           = errors.New("bad request")
)

// classify serves POST /classify.
func (s *Server) classify(w http.ResponseWriter, r *http.Request, id string) {
	top, err := parseTop(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, id, err.Error())
		return
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, id, fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, s.cfg.MaxBodyBytes))
		return
	}
	boundary, err := parseContentType(r.Header.Get("Content-Type"))
	if err != nil {
		writeError(w, http.StatusUnsupportedMediaType, id, err.Error())
		return
	}
	m := s.snapshot()
	if m.classifier == nil {
		w.Header().Set("Retry-After", "5")
		message := "the model is still loading; retry in a few seconds"
		if m.state == StateFailed {
			message = "the model failed to load; GET /healthz shows the error"
		}
		writeError(w, http.StatusServiceUnavailable, id, message)
		return
	}

	data, err := s.readImage(w, r, boundary)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, id, fmt.Sprintf("request body exceeds the limit of %d bytes", s.cfg.MaxBodyBytes))
		return
	case errors.Is(err, errBadRequest):
		writeError(w, http.StatusBadRequest, id, err.Error())
		return
	case err != nil:
		s.log.Warn("reading request body failed", "request_id", id, "err", err)
		writeError(w, http.StatusBadRequest, id, "reading the request body failed: "+err.Error())
		return
	}

	decodeStarted := time.Now()
	img, err := m.classifier.DecodeImage(data)
	decodeTime := time.Since(decodeStarted)
	data = nil // the encoded bytes are garbage from here on
	switch {
	case errors.Is(err, preprocess.ErrUnsupportedFormat):
		writeError(w, http.StatusUnsupportedMediaType, id, "the body is not a JPEG, PNG, GIF, BMP, TIFF or WebP image")
		return
	case errors.Is(err, preprocess.ErrTooLarge), errors.Is(err, preprocess.ErrInvalidImage), errors.Is(err, preprocess.ErrEmpty):
		writeError(w, http.StatusBadRequest, id, strings.TrimPrefix(err.Error(), "preprocess: "))
		return
	case err != nil:
		s.internalError(w, id, "decoding the image failed", err)
		return
	}

	inferenceStarted := time.Now()
	result, err := m.classifier.ClassifyRGB(img, top)
	inferenceTime := time.Since(inferenceStarted)
	if err != nil {
		s.internalError(w, id, "classifying the image failed", err)
		return
	}

	predictions := make([]Prediction, len(result.Top))
	for i, p := range result.Top {
		predictions[i] = Prediction{Label: p.Label, Score: p.Score, Index: p.Index}
	}
	// NOTE: deployed Workers advance the clock only at I/O, not during
	// computation, so these durations read 0 there; local workerd reports
	// real ones.
	h := w.Header()
	h.Set("X-Model-Id", m.modelID)
	h.Set("X-Inference-Ms", strconv.FormatFloat(milliseconds(inferenceTime), 'f', 3, 64))
	h.Set("Server-Timing", fmt.Sprintf("decode;dur=%.3f, inference;dur=%.3f", milliseconds(decodeTime), milliseconds(inferenceTime)))
	writeJSON(w, http.StatusOK, predictions)
}

// parseTop reads ?top=N, default DefaultTop.
func parseTop(query url.Values) (int, error) {
	values, ok := query["top"]
	if !ok {
		return DefaultTop, nil
	}
	if len(values) != 1 {
		return 0, fmt.Errorf("invalid top: given %d times, want once", len(values))
	}
	top, err := strconv.Atoi(values[0])
	if err != nil || top < 1 || top > MaxTop {
		return 0, fmt.Errorf("invalid top %q: want a whole number from 1 to %d", values[0], MaxTop)
	}
	return top, nil
}

// parseContentType accepts image/* and multipart/form-data, returning the
// multipart boundary, or "" for a raw image body.
func parseContentType(contentType string) (boundary string, err error) {
	const accepted = "send the image as the raw body with Content-Type image/* or as the \"image\" field of multipart/form-data"
	if contentType == "" {
		return "", fmt.Errorf("%w: missing Content-Type; %s", errUnsupportedMediaType, accepted)
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: invalid Content-Type %q; %s", errUnsupportedMediaType, contentType, accepted)
	case strings.HasPrefix(mediaType, "image/"):
		return "", nil
	case mediaType == "multipart/form-data":
		if params["boundary"] == "" {
			return "", fmt.Errorf("%w: multipart/form-data without a boundary parameter", errUnsupportedMediaType)
		}
		return params["boundary"], nil
	default:
		return "", fmt.Errorf("%w: Content-Type %s; %s", errUnsupportedMediaType, mediaType, accepted)
	}
}

// readImage reads the encoded image from the body, failing with
// *http.MaxBytesError once the body exceeds the limit, however it is sent.
func (s *Server) readImage(w http.ResponseWriter, r *http.Request, boundary string) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if boundary == "" {
		var buf bytes.Buffer
		if r.ContentLength > 0 {
			// One allocation of the declared size, which the check above
			// bounded, instead of repeated doubling.
			buf.Grow(int(r.ContentLength) + bytes.MinRead)
		}
		_, err := buf.ReadFrom(body)
		return buf.Bytes(), err
	}

	form := multipart.NewReader(body, boundary)
	for {
		part, err := form.NextPart()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: the multipart body has no %q field", errBadRequest, MultipartField)
		}
		if err != nil {
			return nil, multipartError(err)
		}
		if part.FormName() != MultipartField {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, multipartError(err)
			}
			continue
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, multipartError(err)
		}
		return data, nil
	}
}

// multipartError keeps a *http.MaxBytesError and marks other multipart
// errors as a bad request.
func multipartError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return fmt.Errorf("%w: invalid multipart body: %w", errBadRequest, err)
}

// internalError logs err with the request id and responds 500 without the
// details.
func (s *Server) internalError(w http.ResponseWriter, id, message string, err error) {
	s.log.Error(message, "request_id", id, "err", err)
	writeError(w, http.StatusInternalServerError, id, "internal error; quote request_id "+id+" when reporting it")
}
