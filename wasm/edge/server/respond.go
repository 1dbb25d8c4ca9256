package server

import (
	"encoding/json"
	"net/http"
)

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id"`
}

func writeError(w http.ResponseWriter, status int, requestID, message string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.errorMessage = message
	}
	writeJSON(w, status, errorBody{Error: message, RequestID: requestID})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		// Only the fixed types of this package are marshalled, so this is a
		// programming error; the recover in ServeHTTP turns it into a 500.
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
