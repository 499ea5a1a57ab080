package render

import (
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// chatbotPolicy is what Chatbot may read to draw alarm graphs in Slack,
// and the most any channel member may do through it.
const chatbotPolicy = "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"

// chatbotProvider is the provider configuration the module's Chatbot
// resources use. AWS Chatbot's API is served from a few regions only
// (chatbotRegions), so a configuration created through a provider in
// another one, such as ap-northeast-1, fails at apply. The AWS provider
// 5.x has no per-resource region argument (6.x adds one), so the module
// takes a second provider configuration from its caller, which sets that
// one's region: the Terraform way for a module whose resources live in two
// regions.
const chatbotProvider = "aws.chatbot"

// chatbotRegions are the regions that serve the AWS Chatbot (Amazon Q
// Developer in chat applications) API. A configuration may subscribe to
// SNS topics of any region.
var chatbotRegions = []string{"us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"}

// nearestChatbotRegion suggests the Chatbot region for a deployment in
// region, for the README.
func nearestChatbotRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "ap-"):
		return "ap-southeast-1"
	case strings.HasPrefix(region, "eu-"), strings.HasPrefix(region, "me-"), strings.HasPrefix(region, "af-"), strings.HasPrefix(region, "il-"):
		return "eu-west-1"
	case strings.HasPrefix(region, "us-west-"), strings.HasPrefix(region, "ca-west-"):
		return "us-west-2"
	}
	return "us-east-2"
}

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
	body.AppendNewline()
	comment(body, "The region of the aws.chatbot provider, which must serve the Chatbot API.")
	d := body.AppendNewBlock("data", []string{"aws_region", "chatbot"}).Body()
	set(d, "provider", expr(chatbotProvider))
	for _, cb := range r.chatbots {
		body.AppendNewline()
		b := body.AppendNewBlock("resource", []string{"aws_chatbot_slack_channel_configuration", cb.id}).Body()
		set(b, "provider", expr(chatbotProvider))
		set(b, "configuration_name", lit(cb.name))
		set(b, "iam_role_arn", expr("aws_iam_role.chatbot.arn"))
		set(b, "slack_team_id", expr("var."+cb.teamVar))
		set(b, "slack_channel_id", expr("var."+cb.chanVar))
		set(b, "sns_topic_arns", strList(cb.topics))
		set(b, "guardrail_policy_arns", list{lit(chatbotPolicy)})
		set(b, "tags", obj{{"ManagedBy", lit("dpcops")}})
		lc := b.AppendNewBlock("lifecycle", nil).Body()
		pc := lc.AppendNewBlock("precondition", nil).Body()
		set(pc, "condition", call{"contains", []val{strings2list(chatbotRegions), expr("data.aws_region.chatbot.name")}})
		set(pc, "error_message", lit("AWS Chatbot's API is served from "+strings.Join(chatbotRegions, ", ")+" only: give the module an aws.chatbot provider in one of them (its configurations may subscribe to topics of any region)."))
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
	set(b, "assume_role_policy", assumeRole("chatbot.amazonaws.com"))
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
