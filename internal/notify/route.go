package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// MaxDedupKey is PagerDuty's limit on dedup_key, the tighter of the
// receivers' limits (OpsGenie's alias takes 512).
const MaxDedupKey = 255

// DedupKey identifies one episode of one alarm on every receiver:
// "dpcops:PLATFORM:ENVIRONMENT:ALARM:EPISODE". Every notification of the
// episode (trigger, repeats, resends after a crash, resolve) carries it,
// so PagerDuty and OpsGenie fold them into one incident. A key longer
// than MaxDedupKey keeps its start and ends with a hash of the whole.
func DedupKey(s *spec.Spec, alarmName string, episode int64) string {
	k := "dpcops:" + s.Platform + ":" + s.Environment + ":" + alarmName + ":" + strconv.FormatInt(episode, 10)
	if len(k) <= MaxDedupKey {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	h := hex.EncodeToString(sum[:12])
	cut := MaxDedupKey - len(h) - 1
	for cut > 0 && !utf8Start(k[cut]) {
		cut--
	}
	return k[:cut] + ":" + h
}

// CanResolve reports whether a channel type closes the incident a trigger
// opened: PagerDuty resolves it, OpsGenie closes the alert by its alias.
func CanResolve(channelType string) bool {
	return channelType == spec.ChannelPagerDuty || channelType == spec.ChannelOpsGenie
}

// SendsResolved reports whether a channel is told about the return to OK:
// send_resolved, true unless set to false.
func SendsResolved(ch *spec.Channel) bool {
	return ch.SendResolved == nil || *ch.SendResolved
}

// route is one channel a message goes to.
type route struct {
	channel *spec.Channel
	// asksState is set when a subscription that matched filters on the
	// state attribute, i.e. asked for the states it lists.
	asksState bool
}

// Event is what a notification is born from: where it came from (an
// alarm's transition, a query rule's action), the topics it goes to, and
// the labels the stages match (subscription filters: alarm, severity,
// state).
type Event struct {
	Source string
	Topics []string
	Labels map[string]string
}

// Sources of events.
const (
	SourceAlarm     = "alarm"
	SourceQueryRule = "query_rule"
)

// AlarmEvent is an alarm's transition to state as an event.
func AlarmEvent(a *spec.Alarm, state string) Event {
	return Event{Source: SourceAlarm, Topics: a.Topics, Labels: map[string]string{"alarm": a.Name, "severity": a.Severity, "state": state}}
}

// routes follows the event's topics to the subscriptions whose filter
// matches its labels and returns their channels, each once, in spec
// order. Channels that are off are left out and passed to off.
func routes(s *spec.Spec, ev Event, off func(*spec.Channel)) []route {
	attrs := ev.Labels
	var out []route
	for _, topic := range ev.Topics {
		t, ok := s.Topic(topic)
		if !ok {
			continue
		}
		for _, sub := range t.Subscriptions {
			if !sub.Matches(attrs) {
				continue
			}
			ch, ok := s.Channel(sub.Channel)
			if !ok {
				continue
			}
			if !ch.Enabled.On() {
				off(ch)
				continue
			}
			asks := slices.ContainsFunc(sub.Filter, func(f spec.Filter) bool { return f.Key == "state" })
			if i := slices.IndexFunc(out, func(r route) bool { return r.channel.Name == ch.Name }); i >= 0 {
				out[i].asksState = out[i].asksState || asks
				continue
			}
			out = append(out, route{channel: ch, asksState: asks})
		}
	}
	return out
}
