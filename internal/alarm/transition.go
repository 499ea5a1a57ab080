package alarm

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

// Transition is a change of an alarm's state.
type Transition struct {
	// ID is the transition's alarm_history row; 0 in a replay.
	ID    int64
	Alarm string
	// Time is the end of the evaluated period: the evaluation time.
	Time time.Time
	From State
	To   State
	// Reason says why, like CloudWatch's StateReason.
	Reason string
	// ReasonData is a JSON ReasonData; nil in a replay unless
	// ReplayOptions.ReasonData asks for it.
	ReasonData json.RawMessage
	// Episode counts the alarm's episodes: an episode starts when the
	// alarm enters ALARM with no episode going on, goes on through
	// INSUFFICIENT_DATA (a warehouse gone dark and back is not a new
	// incident), and ends at OK. Alarm name and episode identify one
	// incident (the dedup key of its notifications).
	Episode int64
}

// episodes follows an alarm's episodes (see Transition.Episode).
type episodes struct {
	n int64
	// open says an episode is going on: the alarm entered ALARM and has
	// not been OK since.
	open bool
}

// next returns the episodes after a transition to state to.
func (e episodes) next(to State) episodes {
	switch to {
	case Alarm:
		if !e.open {
			e.n++
			e.open = true
		}
	case OK:
		e.open = false
	}
	return e
}

// jsonLine is a transition as `dpcops backtest` prints it.
type jsonLine struct {
	Time   string `json:"time"`
	Alarm  string `json:"alarm"`
	From   State  `json:"from"`
	To     State  `json:"to"`
	Reason string `json:"reason"`
}

// WriteJSONLines writes transitions one JSON object per line:
// {"time","alarm","from","to","reason"}, time in RFC 3339 UTC.
func WriteJSONLines(w io.Writer, ts []Transition) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	// Reasons say "OK -> ALARM"; escaping > would only obscure them.
	enc.SetEscapeHTML(false)
	for _, t := range ts {
		if err := enc.Encode(jsonLine{t.Time.UTC().Format(time.RFC3339), t.Alarm, t.From, t.To, t.Reason}); err != nil {
			return err
		}
	}
	return bw.Flush()
}
