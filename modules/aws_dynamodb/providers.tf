# Credentials never appear here: planton hands them to terraform through the process
# environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...), so they are never written to disk.
provider "aws" {
  region = var.spec.aws_region
  # The account the stack input names, if any: other credentials are refused at once.
  allowed_account_ids = length(var.allowed_account_ids) > 0 ? var.allowed_account_ids : null
}

# Whose credentials these are. Nothing here uses it: planton reads the account from each plan,
# to remember which account an interrupted create or a saved plan was made for.
data "aws_caller_identity" "current" {}
