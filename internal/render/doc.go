// Package render turns the ops spec into its AWS-native form: a Terraform
// module (CloudWatch dashboard and alarms, SNS topics and subscriptions,
// the workgroup's capacity settings and usage limit, EventBridge Scheduler
// schedules for maintenance) and the CloudWatch
// dashboard body as JSON.
//
// Rendering happens wholly in memory: a spec item CloudWatch or
// EventBridge cannot express is an *Error naming every such item, and no
// file is written. The same spec always renders the same bytes, and each
// .tf file is canonical (equal to hclwrite.Format of itself, so
// `terraform fmt -check` passes). Check compares a directory with what the
// spec renders, for the pull-request gate.
package render
