# A customer-managed key given as a key id, alias or alias ARN is resolved to its key ARN, which
# is what DynamoDB records (a key ARN needs no lookup).
data "aws_kms_key" "sse" {
  count  = var.spec.kms_key != null && !can(regex("^arn:[^:]+:kms:[^:]+:[0-9]+:key/", coalesce(var.spec.kms_key, "-"))) ? 1 : 0
  key_id = var.spec.kms_key
}
