# Credentials never appear here: planton hands them to terraform through the process
# environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...), so they are never written to disk.
provider "aws" {
  region = var.spec.aws_region
}
