package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/dpc-learning/dpcops/internal/runbook"
)

// IncidentSource is what the UI reads of the incident records.
type IncidentSource interface {
	List(ctx context.Context, limit int) ([]runbook.Incident, error)
	Get(ctx context.Context, id int64) (runbook.Incident, error)
	Timeline(ctx context.Context, inc runbook.Incident, now time.Time) ([]runbook.Event, error)
}

func (h *handler) incidentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /incidents", h.pageIncidents)
	mux.HandleFunc("GET /incidents/{id}", h.pageIncident)
	mux.HandleFunc("GET /api/v1/incidents", func(w http.ResponseWriter, r *http.Request) {
		if h.o.Incidents == nil {
			writeJSON(w, http.StatusOK, []runbook.Incident{})
			return
		}
		list, err := h.o.Incidents.List(r.Context(), 200)
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, nonNilIncidents(list))
	})
	mux.HandleFunc("GET /api/v1/incidents/{id}", func(w http.ResponseWriter, r *http.Request) {
		inc, evs, status, err := h.incident(r)
		if err != nil {
			apiError(w, status, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, struct {
			runbook.Incident
			Timeline []runbook.Event `json:"timeline"`
		}{inc, evs})
	})
}

func nonNilIncidents(l []runbook.Incident) []runbook.Incident {
	if l == nil {
		return []runbook.Incident{}
	}
	return l
}

// incident reads the incident a request names, with its timeline.
func (h *handler) incident(r *http.Request) (runbook.Incident, []runbook.Event, int, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return runbook.Incident{}, nil, http.StatusBadRequest, errors.New("incident id must be a number")
	}
	if h.o.Incidents == nil {
		return runbook.Incident{}, nil, http.StatusNotFound, runbook.ErrNoIncident
	}
	inc, err := h.o.Incidents.Get(r.Context(), id)
	if errors.Is(err, runbook.ErrNoIncident) {
		return inc, nil, http.StatusNotFound, err
	}
	if err != nil {
		return inc, nil, http.StatusInternalServerError, err
	}
	evs, err := h.o.Incidents.Timeline(r.Context(), inc, h.o.Now())
	if err != nil {
		return inc, nil, http.StatusInternalServerError, err
	}
	return inc, evs, http.StatusOK, nil
}

func (h *handler) pageIncidents(w http.ResponseWriter, r *http.Request) {
	var list []runbook.Incident
	if h.o.Incidents != nil {
		var err error
		if list, err = h.o.Incidents.List(r.Context(), 200); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	h.render(w, r, "incidents", "incidents", list)
}

func (h *handler) pageIncident(w http.ResponseWriter, r *http.Request) {
	inc, evs, status, err := h.incident(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	h.render(w, r, "incident", "incidents", map[string]any{"Incident": inc, "Timeline": evs})
}
