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

# AWS Chatbot's API is served from us-east-2, us-west-2, eu-west-1 and
# ap-southeast-1 only, and the AWS provider 5.x has no region per resource:
# the module creates its Slack configurations through this provider. They
# subscribe to the SNS topics in ap-northeast-1 all the same.
provider "aws" {
  alias  = "chatbot"
  region = var.chatbot_region
}

variable "chatbot_region" {
  type        = string
  description = "Region of the AWS Chatbot API the Slack configurations are created through."
  default     = "ap-southeast-1" # the nearest to ap-northeast-1
  validation {
    condition     = contains(["us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"], var.chatbot_region)
    error_message = "AWS Chatbot's API is served from us-east-2, us-west-2, eu-west-1 and ap-southeast-1 only."
  }
}

variable "manage_workgroup" {
  type        = bool
  description = "Let the module own the workgroup's capacity settings (import the workgroup first)."
  default     = false
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
  type        = string
  description = "The Lambda function or Step Functions state machine that runs dpcops maintenance."
}

variable "maintenance_role_arn" {
  type = string
}

variable "publisher_zip" {
  type        = string
  description = "The publisher function's zip: make lambda (or dpcops render lambda --out) writes it."
  default     = "dpcops-publisher.zip"
}

variable "publisher_architecture" {
  type        = string
  description = "The architecture render lambda printed for the zip."
  default     = "arm64"
}

module "operations" {
  source = "../modules/operations"
  providers = {
    aws         = aws
    aws.chatbot = aws.chatbot
  }

  manage_workgroup          = var.manage_workgroup
  pagerduty_integration_url = var.pagerduty_integration_url
  opsgenie_integration_url  = var.opsgenie_integration_url
  email_addresses           = var.email_addresses
  slack_team_id             = var.slack_team_id
  slack_channel_id          = var.slack_channel_id
  maintenance_target_arn    = var.maintenance_target_arn
  maintenance_role_arn      = var.maintenance_role_arn
  publisher_zip             = var.publisher_zip
  publisher_architecture    = var.publisher_architecture
}
