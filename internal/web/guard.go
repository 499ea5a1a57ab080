package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The HTTP surface's defences, in the order a request meets them: the
// Host it names must be one dpcops answers for (DNS rebinding), every
// answer carries headers that forbid sniffing and framing, a request body
// is bounded, and an action needs the token, checked before any body is
// read. docs/security.md states the threat model behind them.

// sessionCookie carries a browser's sign-in: a random session id, so
// that the cookie reveals nothing of the token, expires, and ends when
// the browser signs out.
const sessionCookie = "dpcops_session"

const (
	// sessionTTL is how long a sign-in lasts.
	sessionTTL = 12 * time.Hour
	// maxSessions bounds the sessions kept; the oldest goes first.
	maxSessions = 1000
)

const (
	// maxBody bounds any request body; dpcops takes no uploads.
	maxBody = 64 << 10
	// maxFormBody bounds the url-encoded form read for a token field.
	maxFormBody = 4 << 10
	// maxEcho bounds the part of a request echoed in an error.
	maxEcho = 80
)

// errUnauthorized answers an action without the right token.
var errUnauthorized = errors.New("unauthorized: actions need the token (Authorization: Bearer TOKEN, or sign in at /login)")

// errNoToken answers every action when no token is configured; serve
// always configures one.
var errNoToken = errors.New("actions are off: no token is configured")

// guard holds what the defences need.
type guard struct {
	token []byte
	now   func() time.Time
	// sessions are the signed-in browsers: id → expiry. They live in
	// memory: a restart signs everyone out.
	mu       sync.Mutex
	sessions map[string]time.Time
	// hosts are the names answered beyond IP addresses and localhost,
	// lower case without a trailing dot.
	hosts map[string]bool
	// secure marks the session cookie Secure (external_url is https).
	secure bool
}

func newGuard(token string, allowed []string, externalURL string, now func() time.Time) *guard {
	g := &guard{hosts: map[string]bool{}, sessions: map[string]time.Time{}, now: now}
	for _, h := range allowed {
		g.hosts[canonicalHost(h)] = true
	}
	if u, err := url.Parse(externalURL); err == nil && u.Hostname() != "" {
		g.hosts[canonicalHost(u.Hostname())] = true
		g.secure = u.Scheme == "https"
	}
	if token != "" {
		g.token = []byte(token)
	}
	return g
}

func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// wrap applies the host check, the headers and the body bound to every
// request.
func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "same-origin")
		if !g.hostAllowed(r.Host) {
			http.Error(w, "dpcops does not answer for host "+echo(r.Host)+
				": add it to serve.allowed_hosts, or use the IP address", http.StatusMisdirectedRequest)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed says whether dpcops answers for the Host of a request. A
// page that rebinds its own DNS name to dpcops' address still sends that
// name, so names are answered only when listed; an IP address cannot be
// rebound, and localhost resolves locally.
func (g *guard) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	host = canonicalHost(host)
	return host == "localhost" || g.hosts[host]
}

// authorize lets an action through with the token: as a bearer token, as
// the session cookie of a signed-in browser, or as the token field of a
// small url-encoded form. The header and the cookie are checked before
// any body is read; a body is read only when it can hold the token.
func (g *guard) authorize(w http.ResponseWriter, r *http.Request) error {
	if len(g.token) == 0 {
		return errNoToken
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || !g.matches(strings.TrimSpace(cred)) {
			return errUnauthorized
		}
		return nil
	}
	if g.signedIn(r) {
		return nil
	}
	if tok := formToken(w, r); tok != "" && g.matches(tok) {
		return nil
	}
	return errUnauthorized
}

func (g *guard) matches(token string) bool {
	return len(g.token) > 0 && subtle.ConstantTimeCompare([]byte(token), g.token) == 1
}

// signedIn says whether the request carries the cookie of a session that
// has not expired or ended.
func (g *guard) signedIn(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(g.token) == 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	exp, ok := g.sessions[c.Value]
	if ok && !g.now().Before(exp) {
		delete(g.sessions, c.Value)
		ok = false
	}
	return ok
}

// formToken reads the token field of a url-encoded form of at most
// maxFormBody bytes; any other body (multipart above all, which would
// spill to temporary files) is never parsed.
func formToken(w http.ResponseWriter, r *http.Request) string {
	if r.Method != http.MethodPost || r.Body == nil {
		return ""
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return ""
	}
	return r.PostForm.Get("token")
}

// startSession signs the browser in with a new random session.
func (g *guard) startSession(w http.ResponseWriter) error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	now := g.now()
	g.mu.Lock()
	for k, exp := range g.sessions {
		if !now.Before(exp) {
			delete(g.sessions, k)
		}
	}
	for len(g.sessions) >= maxSessions {
		oldest := ""
		for k, exp := range g.sessions {
			if oldest == "" || exp.Before(g.sessions[oldest]) {
				oldest = k
			}
		}
		delete(g.sessions, oldest)
	}
	g.sessions[id] = now.Add(sessionTTL)
	g.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: g.secure, SameSite: http.SameSiteStrictMode})
	return nil
}

// endSession signs the browser out: its session ends here, so a copy of
// the cookie is worth nothing after.
func (g *guard) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		g.mu.Lock()
		delete(g.sessions, c.Value)
		g.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: g.secure, SameSite: http.SameSiteStrictMode})
}

// echo quotes a piece of a request for an error message, cut short: an
// attacker's megabyte does not come back whole.
func echo(s string) string {
	if len(s) > maxEcho {
		s = strings.ToValidUTF8(s[:maxEcho], "") + "…"
	}
	return strconv.Quote(s)
}
