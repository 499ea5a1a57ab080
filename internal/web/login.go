package web

import (
	"net/http"
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
		h.guard.setSession(w)
		http.Redirect(w, r, localPath(r.PostForm.Get("next")), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		h.guard.clearSession(w)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

func (h *handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	h.renderStatus(w, r, status, "login", "signin", map[string]any{
		"Next": localPath(r.URL.Query().Get("next")), "Problem": problem, "TokenFile": h.o.TokenFile,
		"Off": len(h.guard.token) == 0,
	})
}

// localPath keeps a redirect on this server: a path, never another
// origin ("//evil.example" or "/\evil.example" included).
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) {
		return "/"
	}
	return p
}
