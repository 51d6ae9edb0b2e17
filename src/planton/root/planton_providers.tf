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
