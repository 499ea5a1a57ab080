package render

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// chatbotPolicy is what Chatbot may read to draw alarm graphs in Slack,
// and the most any channel member may do through it.
const chatbotPolicy = "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"

// writeNotifications writes notifications.tf: topics, subscriptions and
// the Slack configurations.
func (r *renderer) writeNotifications(body *hclwrite.Body) {
	first := true
	sep := func() {
		if !first {
			body.AppendNewline()
		}
		first = false
	}
	for _, t := range r.topics {
		sep()
		if t.route != "" {
			comment(body, "Route topic "+t.route+": only the alarms that pass the subscription's filter notify it.")
		}
		b := body.AppendNewBlock("resource", []string{"aws_sns_topic", t.id}).Body()
		set(b, "name", lit(t.name))
		set(b, "tags", obj{{"ManagedBy", lit("dpcops")}})
	}
	for _, sd := range r.subs {
		sep()
		writeSubscription(body, sd)
	}
	if len(r.chatbots) == 0 {
		return
	}
	sep()
	writeChatbotRole(body, r.s.Platform)
	for _, cb := range r.chatbots {
		body.AppendNewline()
		b := body.AppendNewBlock("resource", []string{"aws_chatbot_slack_channel_configuration", cb.id}).Body()
		set(b, "configuration_name", lit(cb.name))
		set(b, "iam_role_arn", expr("aws_iam_role.chatbot.arn"))
		set(b, "slack_team_id", expr("var."+cb.teamVar))
		set(b, "slack_channel_id", expr("var."+cb.chanVar))
		set(b, "sns_topic_arns", strList(cb.topics))
		set(b, "guardrail_policy_arns", list{lit(chatbotPolicy)})
		set(b, "tags", obj{{"ManagedBy", lit("dpcops")}})
	}
}

func writeSubscription(body *hclwrite.Body, sd *subDef) {
	b := body.AppendNewBlock("resource", []string{"aws_sns_topic_subscription", sd.id}).Body()
	if sd.protocol == "email" {
		set(b, "for_each", call{"toset", []val{expr("var." + sd.endpointVar)}})
	}
	set(b, "topic_arn", expr("aws_sns_topic."+sd.topic+".arn"))
	set(b, "protocol", lit(sd.protocol))
	if sd.protocol == "email" {
		set(b, "endpoint", expr("each.value"))
	} else {
		set(b, "endpoint", expr("var."+sd.endpointVar))
		set(b, "endpoint_auto_confirms", boolean(true))
	}
	if sd.names == nil && sd.states == nil {
		return
	}
	policy := obj{}
	if sd.names != nil {
		policy = append(policy, field{"AlarmName", strings2list(sd.names)})
	}
	if sd.states != nil {
		policy = append(policy, field{"NewStateValue", strings2list(sd.states)})
	}
	set(b, "filter_policy_scope", lit("MessageBody"))
	set(b, "filter_policy", call{"jsonencode", []val{policy}})
}

func writeChatbotRole(body *hclwrite.Body, platform string) {
	comment(body, "AWS Chatbot posts the topics' alarm notifications to Slack; this role lets it read CloudWatch.")
	b := body.AppendNewBlock("resource", []string{"aws_iam_role", "chatbot"}).Body()
	set(b, "name", lit(awsName(platform)+"-chatbot"))
	set(b, "assume_role_policy", call{"jsonencode", []val{obj{
		{"Version", lit("2012-10-17")},
		{"Statement", list{obj{
			{"Effect", lit("Allow")},
			{"Principal", obj{{"Service", lit("chatbot.amazonaws.com")}}},
			{"Action", lit("sts:AssumeRole")},
		}}},
	}}})
	body.AppendNewline()
	a := body.AppendNewBlock("resource", []string{"aws_iam_role_policy_attachment", "chatbot"}).Body()
	set(a, "role", expr("aws_iam_role.chatbot.name"))
	set(a, "policy_arn", lit(chatbotPolicy))
}

func strings2list(ss []string) list {
	out := make(list, len(ss))
	for i, s := range ss {
		out[i] = lit(s)
	}
	return out
}
