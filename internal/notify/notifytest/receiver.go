package notifytest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is one request a receiver got.
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Reply is a receiver's answer to one request.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
	// Delay holds the answer back this long, or until the request's
	// context ends (the client gave up).
	Delay time.Duration
}

// Receiver is a local HTTP server that records every request and answers
// as its Respond function says.
type Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []Request
	respond func(r Request, n int) Reply
	arrived chan struct{}
}

// NewReceiver starts a receiver; respond gets each request and its
// 1-based number. The server stops when the test ends.
func NewReceiver(t testing.TB, respond func(r Request, n int) Reply) *Receiver {
	rc := &Receiver{respond: respond, arrived: make(chan struct{}, 1<<16)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

// SetRespond replaces the answering function.
func (rc *Receiver) SetRespond(respond func(r Request, n int) Reply) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.respond = respond
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, req)
	n := len(rc.reqs)
	respond := rc.respond
	rc.mu.Unlock()
	rep := Reply{Status: http.StatusOK}
	if respond != nil {
		rep = respond(req, n)
	}
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
		}
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
	rc.arrived <- struct{}{}
}

// Requests returns a copy of the requests so far.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// Count is the number of requests so far.
func (rc *Receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// WaitAnswered waits until n requests have been answered or ctx ends,
// and reports whether they were.
func (rc *Receiver) WaitAnswered(ctx context.Context, n int) bool {
	for i := 0; i < n; i++ {
		select {
		case <-rc.arrived:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// Always answers every request the same.
func Always(status int, body string) func(Request, int) Reply {
	return func(Request, int) Reply { return Reply{Status: status, Body: body} }
}

// NewReceiverAt starts a receiver listening on addr, such as the address
// of a receiver that was down until now.
func NewReceiverAt(t testing.TB, addr string, respond func(r Request, n int) Reply) (*Receiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	rc := &Receiver{respond: respond, arrived: make(chan struct{}, 1<<16)}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.Server.Listener.Close()
	rc.Server.Listener = ln
	rc.Server.Start()
	t.Cleanup(rc.Close)
	return rc, nil
}

// FreeAddr returns a loopback address where nothing listens: a receiver
// that is down.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
