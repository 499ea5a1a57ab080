package web

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
)

// NotificationSource is what the UI reads of the deliveries and the inbox.
type NotificationSource interface {
	Deliveries(ctx context.Context, state string, limit int) ([]notify.Record, error)
	Inbox(ctx context.Context, limit int) ([]inbox.Item, error)
}

// StoreNotifications reads them from the store.
type StoreNotifications struct{ DB *sql.DB }

// Deliveries lists outbox rows, newest first.
func (s StoreNotifications) Deliveries(ctx context.Context, state string, limit int) ([]notify.Record, error) {
	return notify.List(ctx, s.DB, notify.Query{State: state, Limit: limit})
}

// Inbox lists the inbox channel's messages, newest first.
func (s StoreNotifications) Inbox(ctx context.Context, limit int) ([]inbox.Item, error) {
	return inbox.List(ctx, s.DB, inbox.Query{Limit: limit})
}

// deliveryStates are the filters of the notifications page.
var deliveryStates = []string{"", "pending", "sending", "sent", "failed", "expired", "silenced", "inhibited"}

func (h *handler) notificationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /notifications", h.pageNotifications)
	mux.HandleFunc("POST /notifications/{id}/retry", h.formRetry)
	mux.HandleFunc("GET /api/v1/deliveries", func(w http.ResponseWriter, r *http.Request) {
		state := r.URL.Query().Get("state")
		if !validState(state) {
			apiError(w, http.StatusBadRequest, "state must be pending, sending, sent, failed, expired, silenced or inhibited")
			return
		}
		list, err := h.deliveries(r.Context(), state)
		if err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("GET /api/v1/inbox", func(w http.ResponseWriter, r *http.Request) {
		items := []inbox.Item{}
		if h.o.Notifications != nil {
			var err error
			if items, err = h.o.Notifications.Inbox(r.Context(), 200); err != nil {
				apiError(w, http.StatusInternalServerError, err.Error())
				return
			}
		}
		writeJSON(w, http.StatusOK, items)
	})
}

func validState(s string) bool {
	for _, x := range deliveryStates {
		if s == x {
			return true
		}
	}
	return false
}

func (h *handler) deliveries(ctx context.Context, state string) ([]notify.Record, error) {
	if h.o.Notifications == nil {
		return []notify.Record{}, nil
	}
	list, err := h.o.Notifications.Deliveries(ctx, state, 200)
	if list == nil {
		list = []notify.Record{}
	}
	return list, err
}

func (h *handler) pageNotifications(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if !validState(state) {
		http.Error(w, "state must be pending, sending, sent, failed, expired, silenced or inhibited", http.StatusBadRequest)
		return
	}
	list, err := h.deliveries(r.Context(), state)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var items []inbox.Item
	if h.o.Notifications != nil {
		if items, err = h.o.Notifications.Inbox(r.Context(), 20); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	h.render(w, r, "notifications", "notifications", map[string]any{
		"State": state, "States": deliveryStates[1:], "Deliveries": list, "Inbox": items,
		"SignedIn": h.guard.signedIn(r),
	})
}

// formRetry is the retry button: an authorised form post, then back to
// the list.
func (h *handler) formRetry(w http.ResponseWriter, r *http.Request) {
	if err := h.guard.authorize(w, r); err != nil {
		refuse(w, err, false)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "delivery id must be a number", http.StatusBadRequest)
		return
	}
	if h.o.Actions.RetryDelivery == nil {
		http.Error(w, errNotImplemented.Error(), http.StatusNotImplemented)
		return
	}
	if err := h.o.Actions.RetryDelivery(r.Context(), id); err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	http.Redirect(w, r, "/notifications?state="+r.URL.Query().Get("state"), http.StatusSeeOther)
}
