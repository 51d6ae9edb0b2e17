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
