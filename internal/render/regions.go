package render

import (
	"slices"
	"strings"
)

// commercialRegions are the regions of the aws partition the renderer
// knows (AWS General Reference and the SDKs' endpoint tables, 2026). A
// region outside it renders with a note: it may be newer than this list.
var commercialRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// regionLacks names the services the module creates that a known region
// does not offer: the AWS General Reference's endpoint list for Redshift
// Serverless and the SDKs' endpoint tables agree that me-south-1 has none.
// Lambda, EventBridge Scheduler, Step Functions, CloudWatch (and its
// Logs), SNS and the Redshift Data API are in every commercial region.
// The Chatbot API is served from four regions only; the module creates
// its configurations through the aws.chatbot provider, whose region a
// precondition checks.
var regionLacks = map[string][]string{
	"me-south-1": {"Redshift Serverless"},
}

// regionUnsure are regions where the General Reference and the SDKs'
// tables disagree about Redshift Serverless.
var regionUnsure = map[string]string{
	"ap-southeast-4": "Redshift Serverless",
	"ca-west-1":      "Redshift Serverless",
}

// checkRegion refuses a region where a service the module creates does
// not exist, so that the failure comes at render time, naming the
// service, and not at apply.
func (r *renderer) checkRegion() {
	region := r.s.AWS.Region
	item := "aws.region " + region
	switch {
	case region == "":
		return // each part that needs it says so
	case strings.HasPrefix(region, "cn-"), strings.HasPrefix(region, "us-gov-"), strings.HasPrefix(region, "us-iso"), strings.HasPrefix(region, "eu-isoe-"), strings.HasPrefix(region, "eusc-"):
		r.ps.add("aws.region", item, "%s is outside the aws partition: the module writes arn:aws: ARNs and the AWS Chatbot guardrail policy, which do not exist there", region)
	case len(regionLacks[region]) > 0:
		r.ps.add("aws.region", item, "%s is not offered in %s, so the module could not be applied there", strings.Join(regionLacks[region], " and "), region)
	case regionUnsure[region] != "":
		r.note("aws.region %s: AWS's own lists disagree on whether %s is offered there; check the console before applying.", region, regionUnsure[region])
	case !slices.Contains(commercialRegions, region):
		r.note("aws.region %s is not among the regions dpcops knows; check that Redshift Serverless, Lambda and EventBridge Scheduler are offered there.", region)
	}
}
