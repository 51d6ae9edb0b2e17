output "table_arn" {
  description = "The ARN of the DynamoDB table."
  value       = aws_dynamodb_table.this.arn
}

output "table_id" {
  description = "The ID of the DynamoDB table (the provider uses the table name)."
  value       = aws_dynamodb_table.this.id
}

output "table_name" {
  description = "The name of the DynamoDB table."
  value       = aws_dynamodb_table.this.name
}

output "aws_region" {
  description = "The AWS region where the table is located."
  value       = var.spec.aws_region
}

output "stream_arn" {
  description = "The ARN of the table's stream. Exported only when the table has a stream; null (absent from `output -json`) otherwise."
  value       = aws_dynamodb_table.this.stream_arn == "" ? null : aws_dynamodb_table.this.stream_arn
}

output "stream_label" {
  description = "A timestamp naming the table's current stream. Null (absent from `output -json`) when the table has no stream."
  # Read from the stream ARN (".../stream/LABEL"): the provider leaves stream_label empty after
  # an update turns the stream on, until the next refresh.
  value = aws_dynamodb_table.this.stream_arn == "" ? null : element(split("/stream/", aws_dynamodb_table.this.stream_arn), 1)
}

output "global_secondary_index_arns" {
  description = "Each global secondary index's ARN, by index name."
  value       = { for index in var.spec.global_secondary_indexes : index.name => "${aws_dynamodb_table.this.arn}/index/${index.name}" }
}

output "local_secondary_index_arns" {
  description = "Each local secondary index's ARN, by index name."
  value       = { for index in var.spec.local_secondary_indexes : index.name => "${aws_dynamodb_table.this.arn}/index/${index.name}" }
}

output "kms_key_arn" {
  description = "The ARN of the customer-managed KMS key encrypting the table; null when it uses an AWS managed or owned key."
  value = (
    var.spec.server_side_encryption_enabled && var.spec.kms_key != null
    && !endswith(coalesce(var.spec.kms_key, "-"), "alias/aws/dynamodb")
  ) ? local.kms_key_arn : null
}

output "alarm_arns" {
  description = "Each CloudWatch alarm's ARN, by what it watches: table/read_throttle, table/write_throttle, table/system_errors, table/latency/<operation>, table/read_capacity, table/write_capacity, and index/<index name>/read_throttle (write_throttle, read_capacity, write_capacity) for each global secondary index. Empty when var.alarms is null."
  value = merge(
    { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn },
    { for key, alarm in aws_cloudwatch_metric_alarm.capacity : key => alarm.arn },
  )
}
