package pgwire

import (
	"context"
	"sync"
)

// Sessions is the set of backend process ids of one dpcops process's own
// warehouse sessions. A client can name its session anything
// (application_name, query_group), but it cannot choose the process id the
// server gives it: query monitoring tells dpcops' own sessions from
// everyone else's by this set, never by a name.
//
// A Client notes its session here when it runs a query under a context
// that carries the set (WithSessions), and from then on for every
// connection it makes; it forgets the session when the connection closes
// or breaks. The ids are those of one warehouse.
//
// Only a session with a query in flight counts in Busy: an idle one runs
// nothing to exempt, and while it idles the server may end it (an idle
// timeout) and give its process id to someone else's session, which must
// not inherit the exemption.
type Sessions struct {
	mu   sync.Mutex
	pids map[*Client]int64
	busy map[*Client]bool
}

// NewSessions returns an empty set.
func NewSessions() *Sessions {
	return &Sessions{pids: map[*Client]int64{}, busy: map[*Client]bool{}}
}

type sessionsKey struct{}

// WithSessions returns a context under which every Client that connects
// or runs a query notes its session in s. The set travels with the
// context, as net/http/httptrace's hooks do, so that the engines a process
// runs (collector, maintenance, query monitoring) need no other wiring to
// be recognised as its own.
func WithSessions(ctx context.Context, s *Sessions) context.Context {
	return context.WithValue(ctx, sessionsKey{}, s)
}

// SessionsFrom returns the set ctx carries, or nil.
func SessionsFrom(ctx context.Context) *Sessions {
	s, _ := ctx.Value(sessionsKey{}).(*Sessions)
	return s
}

// Has reports whether pid is the process id of one of the sessions. A nil
// set has none.
func (s *Sessions) Has(pid int64) bool {
	if s == nil || pid == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pids {
		if p == pid {
			return true
		}
	}
	return false
}

// Busy returns the process ids of the sessions that have a query in
// flight now. A nil set has none.
func (s *Sessions) Busy() map[int64]bool {
	out := map[int64]bool{}
	if s == nil {
		return out
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.busy {
		if pid, ok := s.pids[c]; ok {
			out[pid] = true
		}
	}
	return out
}

func (s *Sessions) setBusy(c *Client, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if busy {
		s.busy[c] = true
	} else {
		delete(s.busy, c)
	}
}

// Len is the number of sessions in the set.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pids)
}

func (s *Sessions) note(c *Client, pid int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids[c] = pid
}

func (s *Sessions) forget(c *Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pids, c)
	delete(s.busy, c)
}

// noteSession records the open connection's process id in the set of ctx,
// or in the set the client was noted in before. The caller holds c.mu.
func (c *Client) noteSession(ctx context.Context) {
	s := SessionsFrom(ctx)
	if s == nil {
		s = c.own
	}
	if s == nil || c.conn == nil {
		return
	}
	if c.own != nil && c.own != s {
		c.own.forget(c)
	}
	c.own = s
	s.note(c, int64(c.conn.PID()))
}

// forgetSession drops the connection's process id from the set: a closed
// session's id may be given to another client's session later. The caller
// holds c.mu.
func (c *Client) forgetSession() {
	if c.own != nil {
		c.own.forget(c)
	}
}

// inFlight marks the client's session busy until the returned function is
// called. The caller holds c.mu.
func (c *Client) inFlight() func() {
	own := c.own
	if own == nil {
		return func() {}
	}
	own.setBusy(c, true)
	return func() { own.setBusy(c, false) }
}
