package notifytest

import (
	"io"
	"net/http"
	"strings"
	"sync"
)

// Transport answers every request with 202 and records its URL, so that
// the address a channel without url uses can be checked offline.
type Transport struct {
	mu   sync.Mutex
	urls []string
}

// RoundTrip records the request.
func (rt *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.urls = append(rt.urls, r.URL.String())
	rt.mu.Unlock()
	return &http.Response{StatusCode: 202, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
}

// URLs are the addresses requested so far.
func (rt *Transport) URLs() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.urls...)
}
