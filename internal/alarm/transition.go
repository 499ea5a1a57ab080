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
	// Episode counts the alarm's entries into ALARM, this one included: a
	// transition to ALARM starts episode n, and the transitions that follow
	// until the next entry into ALARM belong to it. Alarm name and episode
	// identify one incident (the dedup key of its notifications).
	Episode int64
}

// next returns the episode after a transition from → to.
func nextEpisode(episode int64, from, to State) int64 {
	if to == Alarm && from != Alarm {
		return episode + 1
	}
	return episode
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
