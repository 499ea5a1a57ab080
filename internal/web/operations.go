package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dpc-learning/dpcops/internal/capacity"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/qmr"
)

// JobSource tells each maintenance job's place in the schedule; nil when
// maintenance is off.
type JobSource interface {
	Jobs(ctx context.Context) ([]maintain.JobStatus, error)
}

func (h *handler) operationsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /maintenance", h.pageMaintenance)
	mux.HandleFunc("GET /capacity", h.pageCapacity)
	mux.HandleFunc("GET /api/v1/maintenance", func(w http.ResponseWriter, r *http.Request) {
		d, err := h.maintenanceData(r.Context())
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, d)
	})
	mux.HandleFunc("GET /api/v1/capacity", func(w http.ResponseWriter, r *http.Request) {
		rep, status, err := h.capacityReport(r)
		if err != nil {
			apiError(w, status, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
}

// maintenanceView is the maintenance page's data.
type maintenanceView struct {
	Enabled     bool                      `json:"enabled"`
	Jobs        []maintain.JobStatus      `json:"jobs"`
	Runs        []maintain.Run            `json:"runs"`
	Compression []maintain.CompressionRow `json:"compression"`
	Queries     []qmr.Action              `json:"query_actions"`
}

func (h *handler) maintenanceData(ctx context.Context) (*maintenanceView, error) {
	v := &maintenanceView{Enabled: h.o.Jobs != nil, Jobs: []maintain.JobStatus{}}
	var err error
	if h.o.Jobs != nil {
		if v.Jobs, err = h.o.Jobs.Jobs(ctx); err != nil {
			return nil, err
		}
	} else {
		for _, j := range h.o.Spec.Maintenance {
			v.Jobs = append(v.Jobs, maintain.JobStatus{Job: j.Name, Action: j.Action, Mode: j.Mode, Enabled: j.Enabled.On(),
				Schedule: j.Schedule, Timezone: j.Timezone, After: j.After})
		}
	}
	if v.Runs, err = maintain.ReadRuns(ctx, h.o.Store, 100); err != nil {
		return nil, err
	}
	if v.Compression, err = maintain.ReadCompression(ctx, h.o.Store); err != nil {
		return nil, err
	}
	if v.Queries, err = qmr.ReadActions(ctx, h.o.Store, 50); err != nil {
		return nil, err
	}
	return v, nil
}

func (h *handler) pageMaintenance(w http.ResponseWriter, r *http.Request) {
	v, err := h.maintenanceData(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.render(w, r, "maintenance", "maintenance", v)
}

// capacityReport builds the month's report: ?month=YYYY-MM, default the
// current month.
func (h *handler) capacityReport(r *http.Request) (*capacity.Report, int, error) {
	loc := h.o.Spec.Location()
	month, err := capacity.ParseMonth(r.URL.Query().Get("month"), loc, h.o.Now())
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("month must be YYYY-MM, got %s", echo(r.URL.Query().Get("month")))
	}
	rep, err := capacity.Build(r.Context(), capacity.Options{Spec: h.o.Spec, Store: h.o.Store, Now: h.o.Now}, month)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	return rep, http.StatusOK, nil
}

func (h *handler) pageCapacity(w http.ResponseWriter, r *http.Request) {
	rep, status, err := h.capacityReport(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	h.render(w, r, "capacity", "capacity", rep)
}
