# The root configuration planton runs the bundled module in: this file, the module's own files
# and, for remote state, planton_backend.tf.json. The module configures no provider, so that it
# can be used on its own (with for_each, or a caller's provider); planton configures it here.
#
# Credentials never appear here: planton hands them to terraform through the process
# environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...), so they are never written to disk.
provider "aws" {
  region = var.spec.aws_region
  # The account the table lives in, if known: other credentials are refused at once.
  allowed_account_ids = length(var.allowed_account_ids) > 0 ? var.allowed_account_ids : null
  # How many attempts an API call gets (the provider's default is 25, with back-off, and it does
  # not read AWS_MAX_ATTEMPTS): planton sets 2 against an emulator, or AWS_MAX_ATTEMPTS if given.
  max_retries = var.max_retries
}

variable "max_retries" {
  description = "The attempts each AWS API call gets; null keeps the provider's default (25). planton sets it to AWS_MAX_ATTEMPTS when that is set, else to 2 for a loopback endpoint (an emulator), where 25 attempts with back-off look like a hang."
  type        = number
  default     = null

  validation {
    condition     = var.max_retries == null ? true : var.max_retries >= 1
    error_message = "max_retries must be 1 or more."
  }
}

variable "allowed_account_ids" {
  description = "The AWS accounts the credentials may belong to (the provider refuses any other before it changes anything); empty allows any. planton sets it to the account of the table the state records (or of its own interrupted create), else to the stack input's provider_config.account_id."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each entry of allowed_account_ids must be a 12-digit AWS account id."
  }
}

# Whose credentials these are. Nothing here uses it: planton reads the account from each plan,
# to remember which account an interrupted create or a saved plan was made for.
data "aws_caller_identity" "current" {}
