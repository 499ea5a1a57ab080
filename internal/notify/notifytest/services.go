package notifytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// PagerDuty is a local Events API v2 that keeps incidents as PagerDuty
// does: a trigger whose dedup_key matches an open incident is folded into
// it; a resolve closes it.
type PagerDuty struct {
	*Receiver
	routingKey string

	mu        sync.Mutex
	incidents []*Incident
	// Down, when set, makes it answer with that status instead.
	down int
}

// Incident is one PagerDuty incident.
type Incident struct {
	DedupKey string
	Summary  string
	Severity string
	// Events counts the trigger events folded into it.
	Events   int
	Resolved bool
}

// NewPagerDuty starts a PagerDuty that accepts routingKey.
func NewPagerDuty(t testing.TB, routingKey string) *PagerDuty {
	pd := &PagerDuty{routingKey: routingKey}
	pd.Receiver = NewReceiver(t, pd.answer)
	return pd
}

// NewPagerDutyAt starts a PagerDuty on addr, such as the address of one
// that was down until now.
func NewPagerDutyAt(t testing.TB, addr, routingKey string) (*PagerDuty, error) {
	pd := &PagerDuty{routingKey: routingKey}
	rc, err := NewReceiverAt(t, addr, pd.answer)
	if err != nil {
		return nil, err
	}
	pd.Receiver = rc
	return pd, nil
}

// SetDown makes it answer status to everything (0: back to normal).
func (pd *PagerDuty) SetDown(status int) {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	pd.down = status
}

func (pd *PagerDuty) answer(r Request, _ int) Reply {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	if pd.down != 0 {
		return Reply{Status: pd.down, Body: `{"status":"unavailable"}`}
	}
	invalid := func(msg string) Reply {
		return Reply{Status: http.StatusBadRequest, Body: fmt.Sprintf(`{"status":"invalid event","message":"Event object is invalid","errors":[%q]}`, msg)}
	}
	if r.Method != http.MethodPost || r.Path != "/v2/enqueue" {
		return Reply{Status: http.StatusNotFound, Body: "not found"}
	}
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     *struct {
			Summary  string `json:"summary"`
			Source   string `json:"source"`
			Severity string `json:"severity"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		return invalid("body is not JSON")
	}
	switch {
	case ev.RoutingKey != pd.routingKey:
		return invalid("Invalid routing key")
	case len(ev.DedupKey) > 255:
		return invalid("dedup_key is longer than 255")
	}
	open := func() *Incident {
		for _, in := range pd.incidents {
			if in.DedupKey == ev.DedupKey && !in.Resolved {
				return in
			}
		}
		return nil
	}()
	switch ev.EventAction {
	case "trigger":
		p := ev.Payload
		if p == nil || p.Summary == "" || len(p.Summary) > 1024 || p.Source == "" ||
			!strings.Contains("critical error warning info", p.Severity) || p.Severity == "" {
			return invalid("payload is missing or invalid")
		}
		if open == nil {
			open = &Incident{DedupKey: ev.DedupKey, Summary: p.Summary, Severity: p.Severity}
			pd.incidents = append(pd.incidents, open)
		}
		open.Events++
	case "resolve", "acknowledge":
		if open != nil && ev.EventAction == "resolve" {
			open.Resolved = true
		}
	default:
		return invalid("Invalid event_action")
	}
	return Reply{Status: http.StatusAccepted, Body: fmt.Sprintf(`{"status":"success","message":"Event processed","dedup_key":%q}`, ev.DedupKey)}
}

// Incidents returns copies of the incidents so far.
func (pd *PagerDuty) Incidents() []Incident {
	pd.mu.Lock()
	defer pd.mu.Unlock()
	out := make([]Incident, len(pd.incidents))
	for i, in := range pd.incidents {
		out[i] = *in
	}
	return out
}

// OpsGenie is a local Alert API that keeps alerts as OpsGenie does: a
// create whose alias matches an open alert raises its count instead of
// making another; close by alias closes it.
type OpsGenie struct {
	*Receiver
	apiKey string

	mu     sync.Mutex
	alerts []*Alert
}

// Alert is one OpsGenie alert.
type Alert struct {
	Alias    string
	Message  string
	Priority string
	Count    int
	Closed   bool
}

// NewOpsGenie starts an OpsGenie that accepts apiKey.
func NewOpsGenie(t testing.TB, apiKey string) *OpsGenie {
	og := &OpsGenie{apiKey: apiKey}
	og.Receiver = NewReceiver(t, og.answer)
	return og
}

func (og *OpsGenie) answer(r Request, _ int) Reply {
	og.mu.Lock()
	defer og.mu.Unlock()
	if r.Header.Get("Authorization") != "GenieKey "+og.apiKey {
		return Reply{Status: http.StatusUnauthorized, Body: `{"message":"Could not authenticate","took":0.0}`}
	}
	accepted := Reply{Status: http.StatusAccepted, Body: `{"result":"Request will be processed","took":0.01,"requestId":"r-1"}`}
	find := func(alias string) *Alert {
		for _, a := range og.alerts {
			if a.Alias == alias && !a.Closed {
				return a
			}
		}
		return nil
	}
	switch {
	case r.Method == http.MethodPost && r.Path == "/v2/alerts":
		var body struct {
			Message  string `json:"message"`
			Alias    string `json:"alias"`
			Priority string `json:"priority"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Message == "" || len([]rune(body.Message)) > 130 || len(body.Alias) > 512 {
			return Reply{Status: http.StatusUnprocessableEntity, Body: `{"message":"Request body is not valid","took":0.0}`}
		}
		a := find(body.Alias)
		if a == nil {
			a = &Alert{Alias: body.Alias, Message: body.Message, Priority: body.Priority}
			og.alerts = append(og.alerts, a)
		}
		a.Count++
		return accepted
	case r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/v2/alerts/") && strings.HasSuffix(r.Path, "/close"):
		q, _ := url.ParseQuery(r.Query)
		if q.Get("identifierType") != "alias" {
			return Reply{Status: http.StatusBadRequest, Body: `{"message":"identifierType must be alias here"}`}
		}
		alias := strings.TrimSuffix(strings.TrimPrefix(r.Path, "/v2/alerts/"), "/close")
		if a := find(alias); a != nil {
			a.Closed = true
		}
		return accepted
	}
	return Reply{Status: http.StatusNotFound, Body: `{"message":"not found"}`}
}

// Alerts returns copies of the alerts so far.
func (og *OpsGenie) Alerts() []Alert {
	og.mu.Lock()
	defer og.mu.Unlock()
	out := make([]Alert, len(og.alerts))
	for i, a := range og.alerts {
		out[i] = *a
	}
	return out
}
