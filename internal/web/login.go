package web

import (
	"net/http"
	"net/url"
	"strings"
)

// loginRoutes are the browser's sign-in and sign-out. Signing in trades
// the token for a session cookie (HttpOnly, SameSite=Strict), so that the
// web UI's forms act without the token in every page.
func (h *handler) loginRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		h.renderLogin(w, r, http.StatusOK, "")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if tok := formToken(w, r); tok == "" || !h.guard.matches(tok) {
			h.o.Logger.Warn("sign-in refused", "remote", r.RemoteAddr)
			h.renderLogin(w, r, http.StatusUnauthorized, "badtoken")
			return
		}
		if err := h.guard.startSession(w); err != nil {
			h.o.Logger.Error("sign-in", "err", err)
			http.Error(w, "could not start a session", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, localPath(r.PostForm.Get("next")), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		h.guard.endSession(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

func (h *handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	h.renderStatus(w, r, status, "login", "signin", map[string]any{
		"Next": localPath(r.URL.Query().Get("next")), "Problem": problem, "TokenFile": h.o.TokenFile,
		"Off": len(h.guard.token) == 0,
	})
}

// localPath keeps a redirect on this server: a path of its own, never
// another origin. Browsers read "//evil.example", "/\evil.example" and
// "/<TAB>/evil.example" (they drop tabs and newlines) as other hosts, so
// control characters and backslashes are refused outright, and what is
// left must parse as a bare path.
func localPath(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}
