package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
)

// silenceRoutes are the silences page and its forms (the API is in
// api.go).
func (h *handler) silenceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /silences", h.pageSilences)
	mux.HandleFunc("POST /silences", h.formAddSilence)
	mux.HandleFunc("POST /silences/{id}/expire", h.formExpireSilence)
}

// silenceRow is a silence as the page shows it.
type silenceRow struct {
	notify.Silence
	State    string
	Matchers string
}

func (h *handler) pageSilences(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("all") == "true"
	now := h.o.Now().UTC()
	ss, err := notify.Silences(r.Context(), h.o.Store.Reader(), now, !all)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rows := make([]silenceRow, len(ss))
	for i, s := range ss {
		var ms []string
		for _, m := range s.Matchers {
			ms = append(ms, m.Label+"="+m.Value)
		}
		state := "active"
		switch {
		case now.Before(s.Starts):
			state = "planned"
		case !s.Active(now):
			state = "ended"
		}
		rows[i] = silenceRow{Silence: s, State: state, Matchers: strings.Join(ms, ", ")}
	}
	var alarms []string
	for _, a := range h.o.Spec.Alarms {
		alarms = append(alarms, a.Name)
	}
	h.render(w, r, "silences", "silences", map[string]any{
		"Silences": rows, "All": all, "Alarms": alarms, "SignedIn": h.guard.signedIn(r),
	})
}

// formAddSilence adds a silence of one alarm for a duration: an
// authorised form post, then back to the list. Bad input is a 400 with
// the reason, and nothing is added.
func (h *handler) formAddSilence(w http.ResponseWriter, r *http.Request) {
	if err := h.guard.authorize(w, r); err != nil {
		refuse(w, err, false)
		return
	}
	now := h.o.Now().UTC()
	si := notify.Silence{Starts: now, Created: now, Comment: strings.TrimSpace(r.PostFormValue("comment")), CreatedBy: "web"}
	if a := r.PostFormValue("alarm"); a != "" {
		si.Matchers = []notify.Matcher{{Label: "alarm", Value: a}}
	}
	if d, err := time.ParseDuration(r.PostFormValue("for")); err == nil && d > 0 {
		si.Ends = now.Add(d)
	} else if r.PostFormValue("for") != "" {
		http.Error(w, "for: want a duration such as 2h", http.StatusBadRequest)
		return
	}
	if _, err := notify.CheckSilence(h.o.Spec, si); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if _, err := notify.AddSilence(r.Context(), h.o.Store, si); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/silences", http.StatusSeeOther)
}

func (h *handler) formExpireSilence(w http.ResponseWriter, r *http.Request) {
	if err := h.guard.authorize(w, r); err != nil {
		refuse(w, err, false)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "silence id must be a number", http.StatusBadRequest)
		return
	}
	if err := notify.ExpireSilence(r.Context(), h.o.Store, id, h.o.Now().UTC()); err != nil {
		status := http.StatusConflict
		if errors.Is(err, notify.ErrNoSilence) {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return
	}
	http.Redirect(w, r, "/silences", http.StatusSeeOther)
}
