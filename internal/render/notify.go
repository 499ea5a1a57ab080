package render

import (
	"fmt"
	"slices"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// States an alarm notifies through alarm_actions and ok_actions.
var notifiedStates = []string{"ALARM", "OK"}

// topicDef is an SNS topic the module creates: one per spec topic, and a
// route topic for each filtered Slack subscription.
type topicDef struct {
	name, id string
	// route names the spec topic and channel of a route topic.
	route string
}

func (t *topicDef) arn() str { return ref("aws_sns_topic."+t.id+".arn", "arn:aws:sns:::"+t.name) }

// subDef is an SNS subscription (https or email).
type subDef struct {
	id, topic, channel string
	protocol           string
	// endpointVar is the variable holding the endpoint (a URL, or a list
	// of addresses for email).
	endpointVar string
	// names and states are the filter policy's AlarmName and
	// NewStateValue values; nil when the spec filters on neither.
	names  []string
	states []string
}

// chatbotDef is an AWS Chatbot (Amazon Q Developer) Slack configuration.
type chatbotDef struct {
	id, name, channel string
	teamVar, chanVar  string
	topics            []str
}

// match is the part of a spec subscription filter CloudWatch can honour:
// which rendered alarms, in which states, reach the channel.
type match struct {
	alarms []*alarmDef
	states []string
	// byName and byState say which keys the filter tests.
	byName, byState bool
}

func (m match) filtered() bool { return m.byName || m.byState }

// planNotifications creates the topics and, per subscription, the
// subscription, Slack configuration or alarm actions that carry it.
func (r *renderer) planNotifications() {
	for _, t := range r.s.Topics {
		if !snsNameOK(t.Name) {
			r.ps.add("topics."+t.Name, "topic "+t.Name, "SNS topic names are 1 to 256 letters, digits, '-' and '_'")
			continue
		}
		r.topics = append(r.topics, &topicDef{name: t.Name, id: r.topicIDs.name(t.Name)})
	}
	for _, a := range r.alarms {
		for _, t := range a.topics {
			if td := r.topic(t); td != nil {
				a.alarmActions = append(a.alarmActions, td.arn())
				a.okActions = append(a.okActions, td.arn())
			}
		}
	}
	for _, t := range r.s.Topics {
		td := r.topic(t.Name)
		if td == nil {
			continue
		}
		for j, sub := range t.Subscriptions {
			r.planSubscription(td, sub, fmt.Sprintf("topics.%s.subscriptions[%d]", t.Name, j))
		}
	}
}

func (r *renderer) topic(name string) *topicDef {
	for _, t := range r.topics {
		if t.name == name && t.route == "" {
			return t
		}
	}
	return nil
}

func (r *renderer) planSubscription(td *topicDef, sub spec.Subscription, path string) {
	ch, _ := r.s.Channel(sub.Channel)
	if ch.Enabled.Mode() == spec.EnabledFalse {
		r.note("channel %s is off (enabled: false): topic %s does not reach it.", ch.Name, td.name)
		return
	}
	m := r.match(td.name, sub, ch)
	if len(m.alarms) == 0 {
		r.note("the subscription of channel %s to topic %s matches no rendered alarm: not rendered.", ch.Name, td.name)
		return
	}
	switch ch.Type {
	case spec.ChannelPagerDuty, spec.ChannelOpsGenie:
		r.addSubscription(td, ch, m, "https", r.channelVar(ch, "integration_url"), path)
	case spec.ChannelEmail:
		r.addSubscription(td, ch, m, "email", r.channelVar(ch, "addresses"), path)
	case spec.ChannelSlack:
		r.addSlack(td, ch, m)
	case spec.ChannelSNS:
		r.addActions(m, lit(ch.TopicARN))
	default:
		r.note("channel %s (%s) is served by the running dpcops only: SNS cannot deliver to it.", ch.Name, ch.Type)
	}
}

// match works out which alarms of a topic pass a subscription's filter.
// CloudWatch's notifications carry no message attributes, so the filter
// is rendered on the message body (AlarmName, NewStateValue); a severity
// becomes the names of the alarms that have it.
func (r *renderer) match(topic string, sub spec.Subscription, ch *spec.Channel) match {
	m := match{states: notifiedStates}
	if ch.SendResolved != nil && !*ch.SendResolved {
		m.states, m.byState = []string{"ALARM"}, true
	}
	for _, f := range sub.Filter {
		if f.Key == "state" {
			m.states = intersect(m.states, f.Values)
			m.byState = true
		}
	}
	for _, a := range r.alarms {
		if slices.Contains(a.topics, topic) && sub.Matches(map[string]string{"alarm": a.name, "severity": a.severity, "state": stateOf(sub)}) {
			m.alarms = append(m.alarms, a)
		}
	}
	for _, f := range sub.Filter {
		m.byName = m.byName || f.Key != "state"
	}
	if len(m.states) == 0 {
		m.alarms = nil
	}
	return m
}

// stateOf returns a state that passes the subscription's state filter,
// so that Matches tests the other keys only.
func stateOf(sub spec.Subscription) string {
	for _, f := range sub.Filter {
		if f.Key == "state" && len(f.Values) > 0 {
			return f.Values[0]
		}
	}
	return "ALARM"
}

func (r *renderer) addSubscription(td *topicDef, ch *spec.Channel, m match, protocol, variable, path string) {
	sd := &subDef{id: r.subIDs.name(td.name + "_" + ch.Name), topic: td.id, channel: ch.Name, protocol: protocol,
		endpointVar: variable}
	if m.byState {
		sd.states = m.states
	}
	if m.byName {
		for _, a := range m.alarms {
			sd.names = append(sd.names, a.name)
		}
	}
	if n := max(len(sd.names), 1) * max(len(sd.states), 1); n > maxFilterCombos {
		r.ps.add(path, "subscription of "+ch.Name+" to "+td.name, "its filter policy has %d combinations of values; SNS allows %d: split the topic", n, maxFilterCombos)
	}
	r.subs = append(r.subs, sd)
}

// addSlack sends the topic to Slack through AWS Chatbot. Chatbot
// subscribes to whole topics, so a filtered subscription gets its own
// route topic, which only the matching alarms notify.
func (r *renderer) addSlack(td *topicDef, ch *spec.Channel, m match) {
	cb := r.chatbot(ch)
	if !m.filtered() {
		cb.topics = append(cb.topics, td.arn())
		return
	}
	name := awsName(td.name + "-" + ch.Name)
	if !snsNameOK(name) {
		r.ps.add("channels."+ch.Name, "channel "+ch.Name, "the route topic %s for its filtered subscription is not a valid SNS name", name)
		return
	}
	for _, t := range r.topics {
		if t.name == name {
			r.ps.add("channels."+ch.Name, "channel "+ch.Name, "the route topic %s for its filtered subscription to %s has the name of another topic", name, td.name)
			return
		}
	}
	rt := &topicDef{name: name, id: r.topicIDs.name(name), route: td.name + " → " + ch.Name}
	r.topics = append(r.topics, rt)
	cb.topics = append(cb.topics, rt.arn())
	r.addActions(m, rt.arn())
}

func (r *renderer) chatbot(ch *spec.Channel) *chatbotDef {
	for _, cb := range r.chatbots {
		if cb.channel == ch.Name {
			return cb
		}
	}
	cb := &chatbotDef{id: r.chatIDs.name(ch.Name), name: awsName(r.s.Platform + "-" + ch.Name), channel: ch.Name,
		teamVar: r.channelVar(ch, "team_id"), chanVar: r.channelVar(ch, "channel_id")}
	if len(cb.name) > maxChatbotConfig {
		r.ps.add("channels."+ch.Name, "channel "+ch.Name, "the Chatbot configuration name %s is longer than %d characters", cb.name, maxChatbotConfig)
	}
	r.chatbots = append(r.chatbots, cb)
	return cb
}

// addActions adds an SNS topic to the actions of the matching alarms, for
// the states the subscription wants.
func (r *renderer) addActions(m match, arn str) {
	for _, a := range m.alarms {
		if slices.Contains(m.states, "ALARM") {
			a.alarmActions = appendStr(a.alarmActions, arn)
		}
		if slices.Contains(m.states, "OK") {
			a.okActions = appendStr(a.okActions, arn)
		}
	}
}

// channelVar returns the name of a channel's variable, declared once.
func (r *renderer) channelVar(ch *spec.Channel, suffix string) string {
	key := ch.Name + "\x00" + suffix
	if v, ok := r.chanVars[key]; ok {
		return v
	}
	v := r.varIDs.name(ch.Name + "_" + suffix)
	r.chanVars[key] = v
	r.channelVars = append(r.channelVars, chanVar{name: v, channel: ch, suffix: suffix})
	return v
}

func appendStr(ss []str, s str) []str {
	for _, x := range ss {
		if x.String() == s.String() && len(x) == len(s) && x[0].ref == s[0].ref {
			return ss
		}
	}
	return append(ss, s)
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func snsNameOK(name string) bool {
	if name == "" || len(name) > maxSNSTopicName {
		return false
	}
	return awsName(name) == name
}
