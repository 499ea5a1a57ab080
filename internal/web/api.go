package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

func (h *handler) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/alarms", h.apiAlarms)
	mux.HandleFunc("GET /api/v1/alarms/{name}", h.apiAlarm)
	mux.HandleFunc("GET /api/v1/dashboard", h.apiDashboard)
	mux.HandleFunc("GET /api/v1/datapoints", h.apiDatapoints)
	mux.HandleFunc("GET /api/v1/health", h.apiHealth)
	mux.HandleFunc("GET /api/v1/logs", h.apiLogs)
	mux.HandleFunc("POST /api/v1/pipeline/rerun", h.action(func(r *http.Request) (any, error) {
		if h.o.Actions.RerunPipeline == nil {
			return nil, errNotImplemented
		}
		id, err := h.o.Actions.RerunPipeline(r.Context())
		return map[string]string{"execution": id}, err
	}))
	mux.HandleFunc("POST /api/v1/deliveries/{id}/retry", h.action(func(r *http.Request) (any, error) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil, badRequest("delivery id must be a number")
		}
		if h.o.Actions.RetryDelivery == nil {
			return nil, errNotImplemented
		}
		return map[string]int64{"retried": id}, h.o.Actions.RetryDelivery(r.Context(), id)
	}))
	mux.HandleFunc("GET /api/v1/silences", h.apiSilences)
	mux.HandleFunc("POST /api/v1/silences", h.action(h.addSilence))
	mux.HandleFunc("POST /api/v1/silences/{id}/expire", h.action(func(r *http.Request) (any, error) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil, badRequest("silence id must be a number")
		}
		return map[string]int64{"expired": id}, notify.ExpireSilence(r.Context(), h.o.Store, id, h.o.Now().UTC())
	}))
	mux.HandleFunc("POST /api/v1/queries/{id}/cancel", h.action(func(r *http.Request) (any, error) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			return nil, badRequest("query id must be a number")
		}
		if h.o.Actions.CancelQuery == nil {
			return nil, errNotImplemented
		}
		return map[string]int64{"cancelled": id}, h.o.Actions.CancelQuery(r.Context(), id)
	}))
}

var errNotImplemented = errors.New("not available yet")

type badRequest string

func (b badRequest) Error() string { return string(b) }

// action wraps a POST: authorization first, then the action, then its
// answer as JSON.
func (h *handler) action(do func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.guard.authorize(w, r); err != nil {
			refuse(w, err, true)
			return
		}
		v, err := do(r)
		var br badRequest
		switch {
		case errors.As(err, &br):
			apiError(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, errNotImplemented):
			apiError(w, http.StatusNotImplemented, err.Error())
		case errors.Is(err, notify.ErrNoDelivery), errors.Is(err, notify.ErrNoSilence):
			apiError(w, http.StatusNotFound, err.Error())
		case err != nil:
			h.o.Logger.Warn("action failed", "path", r.URL.Path, "err", err)
			apiError(w, http.StatusConflict, err.Error())
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}
}

// AlarmRow is an alarm as the alarms page and /api/v1/alarms show it.
type AlarmRow struct {
	Name        string          `json:"name"`
	State       string          `json:"state"`
	Reason      string          `json:"reason"`
	ReasonData  json.RawMessage `json:"reason_data,omitempty"`
	UpdatedAt   *time.Time      `json:"updated_at"`
	EvaluatedAt *time.Time      `json:"evaluated_at"`
	Severity    string          `json:"severity"`
	Metric      string          `json:"metric,omitempty"`
	Expression  string          `json:"expression,omitempty"`
	Statistic   string          `json:"statistic"`
	Comparison  string          `json:"comparison"`
	Threshold   float64         `json:"threshold"`
	Period      int64           `json:"period"`
	N           int             `json:"evaluation_periods"`
	M           int             `json:"datapoints_to_alarm"`
	Episode     int64           `json:"episode"`
	Enabled     bool            `json:"enabled"`
	Description string          `json:"description,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
}

// alarmRows lists the spec's alarms, in spec order, with their states. An
// alarm never evaluated is INSUFFICIENT_DATA.
func (h *handler) alarmRows(ctx context.Context) ([]AlarmRow, error) {
	states := map[string]alarm.Status{}
	if h.o.Alarms != nil {
		list, err := h.o.Alarms.States(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			states[s.Alarm] = s
		}
	}
	out := make([]AlarmRow, 0, len(h.o.Spec.Alarms))
	for _, a := range h.o.Spec.Alarms {
		out = append(out, alarmRow(a, states[a.Name]))
	}
	return out, nil
}

func alarmRow(a spec.Alarm, st alarm.Status) AlarmRow {
	r := AlarmRow{
		Name: a.Name, State: string(st.State), Reason: st.Reason, ReasonData: st.ReasonData,
		Severity: a.Severity, Metric: a.Metric, Expression: a.Expression, Statistic: a.Statistic,
		Comparison: a.Comparison, Period: a.Period.Seconds(), N: a.EvaluationPeriods, M: a.DatapointsToAlarm,
		Episode: st.Episode, Enabled: a.Enabled.On(), Description: a.Description, LastError: st.LastError,
	}
	if a.Threshold != nil {
		r.Threshold = *a.Threshold
	}
	if r.State == "" {
		r.State = string(alarm.InsufficientData)
	}
	if !st.ChangedAt.IsZero() {
		t := st.ChangedAt
		r.UpdatedAt = &t
	}
	if !st.EvaluatedAt.IsZero() {
		t := st.EvaluatedAt
		r.EvaluatedAt = &t
	}
	return r
}

func (h *handler) apiAlarms(w http.ResponseWriter, r *http.Request) {
	rows, err := h.alarmRows(r.Context())
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

func (h *handler) apiAlarm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := h.o.Spec.Alarm(name); !ok {
		apiError(w, http.StatusNotFound, "no alarm named "+echo(name))
		return
	}
	rows, err := h.alarmRows(r.Context())
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	var history []alarm.Transition
	if h.o.Alarms != nil {
		if history, err = h.o.Alarms.History(r.Context(), name, 100); err != nil {
			apiError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	items := make([]historyItem, len(history))
	for i, t := range history {
		items[i] = historyItem{ID: t.ID, Time: t.Time, From: t.From, To: t.To, Reason: t.Reason,
			ReasonData: t.ReasonData, Episode: t.Episode}
		if len(items[i].ReasonData) == 0 {
			items[i].ReasonData = json.RawMessage("{}")
		}
	}
	for _, row := range rows {
		if row.Name == name {
			writeJSON(w, http.StatusOK, struct {
				AlarmRow
				History []historyItem `json:"history"`
			}{row, items})
			return
		}
	}
}

// historyItem is one transition in /api/v1/alarms/{name}, in the API's
// snake_case like every other answer.
type historyItem struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	From       alarm.State     `json:"from"`
	To         alarm.State     `json:"to"`
	Reason     string          `json:"reason"`
	ReasonData json.RawMessage `json:"reason_data"`
	Episode    int64           `json:"episode"`
}

func (h *handler) apiDashboard(w http.ResponseWriter, r *http.Request) {
	rng, err := parseRange(r.URL.Query(), h.o.Now(), h.o.Spec.Location())
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	widgets, err := h.dashboard(r.Context(), rng)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": rng.From, "to": rng.To, "range": rng.Name, "widgets": widgets})
}

// apiDatapoints answers one metric's series: metric=NAME, optional
// dimensions=k=v;k=v (default: the metric's own), the range, stat
// (default Average) and period in seconds (default 60).
func (h *handler) apiDatapoints(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m, ok := h.o.Spec.Metric(q.Get("metric"))
	if !ok {
		apiError(w, http.StatusNotFound, "no metric named "+echo(q.Get("metric")))
		return
	}
	rng, err := parseRange(q, h.o.Now(), h.o.Spec.Location())
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	stat, err := alarm.ParseStatistic(orDefault(q.Get("stat"), "Average"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "stat must be Average, Sum, Minimum, Maximum, SampleCount or a percentile pNN, got "+echo(q.Get("stat")))
		return
	}
	period, err := parsePeriod(q.Get("period"), rng)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	dims := q.Get("dimensions")
	if !q.Has("dimensions") {
		dims = m.Dimensions.Canonical()
	}
	pts, err := seriesData(r.Context(), h.o.Store, m.Name, dims, rng, period, stat)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"metric": m.Name, "dimensions": dims, "unit": m.Unit,
		"statistic": stat.String(), "period": int64(period / time.Second), "from": rng.From, "to": rng.To, "points": nonNil(pts)})
}

// maxPeriods bounds the periods of one series the API answers.
const maxPeriods = 100000

// parsePeriod reads period=SECONDS (default 60): at least 1, at most the
// longest range, and at most maxPeriods periods in rng. Bounding the
// seconds before they become a Duration keeps a huge number from
// overflowing into a zero or negative period.
func parsePeriod(s string, rng TimeRange) (time.Duration, error) {
	if s == "" {
		return time.Minute, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 1 || sec > int64(maxRange/time.Second) {
		return 0, fmt.Errorf("period must be a whole number of seconds from 1 to %d, got %s", int64(maxRange/time.Second), echo(s))
	}
	period := time.Duration(sec) * time.Second
	if rng.To.Sub(rng.From)/period > maxPeriods {
		return 0, fmt.Errorf("period %ds gives more than %d periods in the range: use a longer period or a shorter range", sec, maxPeriods)
	}
	return period, nil
}

func nonNil(p []Point) []Point {
	if p == nil {
		return []Point{}
	}
	return p
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (h *handler) apiHealth(w http.ResponseWriter, r *http.Request) {
	hs, err := h.o.Store.HealthAll(r.Context())
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := make([]Health, len(hs))
	for i, x := range hs {
		out[i] = Health{Collector: x.Collector, LastRun: x.LastRun, LastSuccess: optionalTime(x.LastSuccess), LastError: x.LastError,
			LastErrorAt: optionalTime(x.LastErrorAt), DurationMS: x.Duration.Milliseconds(), Statements: x.Statements, Wakeups: x.Wakeups, Datapoints: x.Datapoints}
	}
	writeJSON(w, http.StatusOK, struct {
		Replica
		Collectors []Health `json:"collectors"`
	}{h.replica(), out})
}

// Replica is which serve answers and which leads, as /api/v1/health and
// the Collectors page show it.
type Replica struct {
	// Replica names this serve (host:pid).
	Replica string `json:"replica"`
	// Store is sqlite or postgres.
	Store string `json:"store"`
	// Leader names the serve that runs the engines ("" while none does);
	// Leading says it is this one; Epoch is its term.
	Leader  string `json:"leader"`
	Leading bool   `json:"leading"`
	Epoch   int64  `json:"epoch"`
}

// replica reads the replica's status; a single serve leads always.
func (h *handler) replica() Replica {
	if h.o.Replica != nil {
		return h.o.Replica()
	}
	return Replica{Store: h.o.Store.Dialect(), Leading: true}
}

// Health is a collector's health, as /api/v1/health answers it; the
// counts are totals since the store was created.
type Health struct {
	Collector   string     `json:"collector"`
	LastRun     time.Time  `json:"last_run"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	DurationMS  int64      `json:"duration_ms"`
	Statements  int64      `json:"statements"`
	Wakeups     int64      `json:"wakeups"`
	Datapoints  int64      `json:"datapoints"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *handler) apiLogs(w http.ResponseWriter, r *http.Request) {
	limit := logLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			apiError(w, http.StatusBadRequest, "limit must be 1 to 1000")
			return
		}
		limit = n
	}
	lines, err := h.o.Store.LatestLogs(r.Context(), limit)
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, logLines(lines))
}

// apiSilences lists the silences that have not ended (?all=true: every
// one), newest first.
func (h *handler) apiSilences(w http.ResponseWriter, r *http.Request) {
	ss, err := notify.Silences(r.Context(), h.o.Store.Reader(), h.o.Now().UTC(), r.URL.Query().Get("all") != "true")
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if ss == nil {
		ss = []notify.Silence{}
	}
	writeJSON(w, http.StatusOK, ss)
}

// silenceRequest is the body of POST /api/v1/silences: alarm (or
// matchers), duration (or ends_at), comment.
type silenceRequest struct {
	Alarm    string           `json:"alarm"`
	Matchers []notify.Matcher `json:"matchers"`
	Duration string           `json:"duration"`
	EndsAt   *time.Time       `json:"ends_at"`
	Comment  string           `json:"comment"`
}

func (h *handler) addSilence(r *http.Request) (any, error) {
	var req silenceRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, badRequest("body: want JSON {alarm | matchers, duration | ends_at, comment}: " + err.Error())
	}
	now := h.o.Now().UTC()
	si := notify.Silence{Matchers: req.Matchers, Starts: now, Created: now, Comment: req.Comment, CreatedBy: "api"}
	if req.Alarm != "" {
		si.Matchers = append(si.Matchers, notify.Matcher{Label: "alarm", Value: req.Alarm})
	}
	switch {
	case req.Duration != "" && req.EndsAt != nil:
		return nil, badRequest("give duration or ends_at, not both")
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			return nil, badRequest(fmt.Sprintf("duration %q: want a positive Go duration such as 2h", req.Duration))
		}
		si.Ends = now.Add(d)
	case req.EndsAt != nil:
		si.Ends = req.EndsAt.UTC()
	}
	warnings, err := notify.CheckSilence(h.o.Spec, si)
	if err != nil {
		return nil, badRequest(err.Error())
	}
	id, err := notify.AddSilence(r.Context(), h.o.Store, si)
	if err != nil {
		return nil, err
	}
	if warnings == nil {
		warnings = []string{}
	}
	return map[string]any{"id": id, "ends_at": si.Ends, "warnings": warnings}, nil
}
