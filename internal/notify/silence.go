package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Silences say "not now" for the alarms their matchers select: while one
// is active, a transition that would page is recorded, and its
// notification held (table held) instead of sent. When the silence
// ends, each held notification whose alarm is still in ALARM in the same
// episode goes out, once; the others are dropped. Resolves of pages sent
// before a silence go out as usual: a silence hides news, it never leaves
// an incident open at PagerDuty.

// SilenceLabels are the labels a matcher may test.
var SilenceLabels = []string{"alarm", "severity"}

// MaxSilence is the longest a silence may last: one forgotten must not
// hide an alarm for ever.
const MaxSilence = 30 * 24 * time.Hour

// Matcher holds when the label's value is Value.
type Matcher struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Silence is one silence.
type Silence struct {
	ID        int64      `json:"id"`
	Matchers  []Matcher  `json:"matchers"`
	Starts    time.Time  `json:"starts_at"`
	Ends      time.Time  `json:"ends_at"`
	Comment   string     `json:"comment"`
	CreatedBy string     `json:"created_by,omitempty"`
	Created   time.Time  `json:"created_at"`
	Expired   *time.Time `json:"expired_at,omitempty"`
}

// End is when the silence stops: its end, or when it was expired.
func (s Silence) End() time.Time {
	if s.Expired != nil && s.Expired.Before(s.Ends) {
		return *s.Expired
	}
	return s.Ends
}

// Active reports whether the silence holds at now.
func (s Silence) Active(now time.Time) bool { return !now.Before(s.Starts) && now.Before(s.End()) }

// Matches reports whether every matcher holds for the labels.
func (s Silence) Matches(labels map[string]string) bool {
	for _, m := range s.Matchers {
		if labels[m.Label] != m.Value {
			return false
		}
	}
	return len(s.Matchers) > 0
}

// alarmLabels are the labels silences match an alarm by.
func alarmLabels(a *spec.Alarm) map[string]string {
	return map[string]string{"alarm": a.Name, "severity": a.Severity}
}

// ParseMatcher reads label=value.
func ParseMatcher(s string) (Matcher, error) {
	k, v, ok := strings.Cut(s, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !ok || k == "" || v == "" {
		return Matcher{}, fmt.Errorf("matcher %q: want label=value", s)
	}
	return Matcher{Label: k, Value: v}, nil
}

// CheckSilence refuses a silence that could not work, and warns of one
// that silences nothing the spec knows: a typo must not look like a
// silence in place.
func CheckSilence(s *spec.Spec, si Silence) (warnings []string, err error) {
	var errs []error
	if len(si.Matchers) == 0 {
		errs = append(errs, errors.New("a silence needs a matcher: --alarm NAME or --match label=value"))
	}
	for _, m := range si.Matchers {
		if !slices.Contains(SilenceLabels, m.Label) {
			errs = append(errs, fmt.Errorf("matcher %s=%s: label %q is not one of %s", m.Label, m.Value, m.Label, strings.Join(SilenceLabels, ", ")))
		}
	}
	switch {
	case si.Ends.IsZero():
		errs = append(errs, errors.New("a silence needs an end: --for DURATION or --until TIME"))
	case !si.Ends.After(si.Starts):
		errs = append(errs, fmt.Errorf("the silence ends (%s) before it starts (%s)", si.Ends.Format(time.RFC3339), si.Starts.Format(time.RFC3339)))
	case si.Ends.Sub(si.Starts) > MaxSilence:
		errs = append(errs, fmt.Errorf("a silence lasts at most %s; this one lasts %s", MaxSilence, si.Ends.Sub(si.Starts).Round(time.Minute)))
	}
	if strings.TrimSpace(si.Comment) == "" {
		errs = append(errs, errors.New("a silence needs --comment: say why, for whoever finds it"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var names []string
	matched := false
	for i := range s.Alarms {
		a := &s.Alarms[i]
		names = append(names, a.Name)
		matched = matched || si.Matches(alarmLabels(a))
	}
	if !matched {
		warnings = append(warnings, fmt.Sprintf("the silence matches no alarm of the spec; its alarms are %s", strings.Join(names, ", ")))
	}
	return warnings, nil
}

// AddSilence stores a checked silence and returns its id.
func AddSilence(ctx context.Context, st *store.Store, si Silence) (int64, error) {
	ms, err := json.Marshal(si.Matchers)
	if err != nil {
		return 0, err
	}
	var id int64
	err = st.WriteTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO silences (matchers, starts_at, ends_at, comment, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, string(ms), store.Millis(si.Starts), store.Millis(si.Ends), si.Comment, si.CreatedBy,
			store.Millis(si.Created)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("add silence: %w", err)
	}
	return id, nil
}

// ErrNoSilence is the error of an id that names no silence.
var ErrNoSilence = errors.New("no such silence")

// ExpireSilence ends a silence at now. Its held notifications go out at
// the worker's next pass if their alarms are still in ALARM.
func ExpireSilence(ctx context.Context, st *store.Store, id int64, now time.Time) error {
	return st.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL AND ends_at > ?`,
			store.Millis(now), id, store.Millis(now))
		if err != nil {
			return fmt.Errorf("expire silence %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var x int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM silences WHERE id = ?`, id).Scan(&x); err != nil {
				return err
			}
			if x == 0 {
				return fmt.Errorf("silence %d: %w", id, ErrNoSilence)
			}
			return fmt.Errorf("silence %d has ended already", id)
		}
		return nil
	})
}

// Silences returns the silences read through q, newest first: all, or
// with current only those that have not ended at now.
func Silences(ctx context.Context, q store.Querier, now time.Time, current bool) ([]Silence, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, matchers, starts_at, ends_at, comment, created_by, created_at, expired_at FROM silences
		WHERE ?1 = 0 OR (ends_at > ?2 AND (expired_at IS NULL OR expired_at > ?2)) ORDER BY id DESC`, boolInt(current), store.Millis(now))
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	defer rows.Close()
	var out []Silence
	for rows.Next() {
		var s Silence
		var ms string
		var starts, ends, created int64
		var expired sql.NullInt64
		if err := rows.Scan(&s.ID, &ms, &starts, &ends, &s.Comment, &s.CreatedBy, &created, &expired); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(ms), &s.Matchers); err != nil {
			return nil, fmt.Errorf("silence %d: matchers: %w", s.ID, err)
		}
		s.Starts, s.Ends, s.Created = store.FromMillis(starts), store.FromMillis(ends), store.FromMillis(created)
		if expired.Valid {
			t := store.FromMillis(expired.Int64)
			s.Expired = &t
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// OpenWindow opens a maintenance window: a silence per alarm from start to
// end, made by createdBy ("window:NAME", "job:NAME"), once: a window
// already opened at start by the same maker is left as it is, so that
// every replica and every tick may ask. It returns whether it opened.
func OpenWindow(ctx context.Context, st *store.Store, createdBy string, start, end time.Time, alarms []string, comment string) (bool, error) {
	opened := false
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM silences WHERE created_by = ? AND starts_at = ?`,
			createdBy, store.Millis(start)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, a := range alarms {
			ms, err := json.Marshal([]Matcher{{Label: "alarm", Value: a}})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO silences (matchers, starts_at, ends_at, comment, created_by, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`, string(ms), store.Millis(start), store.Millis(end), comment, createdBy, store.Millis(start)); err != nil {
				return err
			}
		}
		opened = len(alarms) > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("open window %s: %w", createdBy, err)
	}
	return opened, nil
}

// CloseWindow ends the window createdBy opened at start at end, if it
// would have lasted longer (a job that finished early).
func CloseWindow(ctx context.Context, st *store.Store, createdBy string, start, end time.Time) error {
	return st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE silences SET ends_at = ? WHERE created_by = ? AND starts_at = ? AND ends_at > ?`,
			store.Millis(end), createdBy, store.Millis(start), store.Millis(end))
		if err != nil {
			return fmt.Errorf("close window %s: %w", createdBy, err)
		}
		return nil
	})
}

// EndWindows ends at at every window createdBy opened that would last
// longer (the job that opened it is gone).
func EndWindows(ctx context.Context, st *store.Store, createdBy string, at time.Time) error {
	return st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE silences SET ends_at = ? WHERE created_by = ? AND ends_at > ?`,
			store.Millis(at), createdBy, store.Millis(at))
		if err != nil {
			return fmt.Errorf("end windows of %s: %w", createdBy, err)
		}
		return nil
	})
}

// Aftermath is how long a window around some work stays open after it:
// until each of its alarms has evaluated a whole window of datapoints
// from after the work (period × evaluation periods, the longest).
func Aftermath(s *spec.Spec, alarms []string) time.Duration {
	var d time.Duration
	for _, name := range alarms {
		if a, ok := s.Alarm(name); ok {
			d = max(d, a.Period.D()*time.Duration(a.EvaluationPeriods))
		}
	}
	return d
}
