package qmr

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// OwnPrefix starts the name of every rule that watches dpcops' own
// sessions. dpcops' sessions are named with it too (application_name,
// query_group), for people reading pg_stat_activity; but any client can
// take such a name, so a name never makes a session dpcops' own: its
// process id does (Query.Own).
const OwnPrefix = "dpcops"

// Query is one query in progress.
type Query struct {
	// ID is the backend pid (PostgreSQL) or query_id (Redshift); PID is the
	// session's process id, which a cancel addresses.
	ID  int64 `json:"query_id"`
	PID int64 `json:"pid"`
	// User is the user name (on Redshift the user id when the name could
	// not be read).
	User     string `json:"user"`
	Database string `json:"database"`
	// Label is the application_name (PostgreSQL) or query_label
	// (Redshift).
	Label   string    `json:"label"`
	Started time.Time `json:"started"`
	// StartKey is the start time as the server wrote it (PostgreSQL) or
	// the query id (Redshift): with ID it names this query and no later
	// one on the same backend.
	StartKey  string        `json:"-"`
	Execution time.Duration `json:"-"`
	Queue     time.Duration `json:"-"`
	Text      string        `json:"query"`
	// Own marks a query of one of dpcops' own sessions: its session's
	// process id is one a dpcops connection of this process was given
	// (pgwire.Sessions), which no client can choose.
	Own bool `json:"-"`
}

// Key identifies the query across checks.
func (q Query) Key() string { return fmt.Sprintf("%d@%s", q.ID, q.StartKey) }

// rule is a spec rule ready to test queries.
type rule struct {
	spec.QMRRule
	threshold time.Duration
	// own: the rule watches dpcops' own sessions, and only them.
	own bool
}

func compile(r spec.QMRRule) rule {
	return rule{QMRRule: r, threshold: time.Duration(r.Threshold * float64(time.Second)), own: strings.HasPrefix(r.Name, OwnPrefix)}
}

// applies says whether the rule watches the query at all. dpcops' own
// sessions are watched only by rules whose name starts with "dpcops", and
// those watch nothing else.
func (r rule) applies(q Query) bool {
	if q.Own != r.own {
		return false
	}
	if slices.Contains(r.ExcludeUsers, q.User) {
		return false
	}
	for _, p := range r.ExcludeQueryLabels {
		if ok, _ := path.Match(p, q.Label); ok || p == q.Label {
			return false
		}
	}
	return true
}

// value is the query's figure for the rule's metric.
func (r rule) value(q Query) time.Duration {
	if r.Metric == "queue_time" {
		return q.Queue
	}
	return q.Execution
}

// breaks says whether the query is over the rule's threshold.
func (r rule) breaks(q Query) bool { return r.applies(q) && r.value(q) > r.threshold }
