# The root configuration that deploys modules/operations, for the default
# spec (examples/dpc-learning.yaml). Its variables are the module's inputs
# that the spec does not hold: the channels' endpoints and Slack ids, and
# the maintenance target. Keep the state in a backend of your own.

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.61.0, < 7.0.0"
    }
  }
  # backend "s3" { ... }
}

provider "aws" {
  region = "ap-northeast-1" # the spec's aws.region
}

variable "pagerduty_integration_url" {
  type      = string
  sensitive = true
}

variable "opsgenie_integration_url" {
  type      = string
  sensitive = true
}

variable "email_addresses" {
  type = list(string)
}

variable "slack_team_id" {
  type = string
}

variable "slack_channel_id" {
  type = string
}

variable "maintenance_target_arn" {
  type = string
}

variable "maintenance_role_arn" {
  type = string
}

module "operations" {
  source = "../modules/operations"

  pagerduty_integration_url = var.pagerduty_integration_url
  opsgenie_integration_url  = var.opsgenie_integration_url
  email_addresses           = var.email_addresses
  slack_team_id             = var.slack_team_id
  slack_channel_id          = var.slack_channel_id
  maintenance_target_arn    = var.maintenance_target_arn
  maintenance_role_arn      = var.maintenance_role_arn
}
