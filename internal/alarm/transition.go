package alarm

import (
	"encoding/json"
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
	// ReasonData is a JSON ReasonData.
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
