locals {
  # Name and ManagedBy always; Environment and Organization when the manifest sets them;
  # then the manifest's labels (the variable's validation keeps them off the keys above).
  tags = merge(
    var.metadata.labels,
    var.metadata.env == null ? {} : { Environment = var.metadata.env },
    var.metadata.org == null ? {} : { Organization = var.metadata.org },
    {
      Name      = var.spec.table_name
      ManagedBy = "planton"
    },
  )

  provisioned = var.spec.billing_mode == "PROVISIONED"
}

resource "aws_dynamodb_table" "this" {
  name         = var.spec.table_name
  billing_mode = var.spec.billing_mode
  hash_key     = var.spec.partition_key_name
  range_key    = var.spec.sort_key_name

  # The provider rejects capacity on on-demand tables, so it is only sent when provisioned.
  read_capacity  = local.provisioned ? var.spec.read_capacity_units : null
  write_capacity = local.provisioned ? var.spec.write_capacity_units : null

  dynamic "attribute" {
    for_each = var.spec.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  # enabled = true uses the AWS managed KMS key (alias/aws/dynamodb); false leaves the
  # table on DynamoDB's default AWS owned key. Data at rest is encrypted either way.
  server_side_encryption {
    enabled = var.spec.server_side_encryption_enabled
  }

  point_in_time_recovery {
    enabled = var.spec.point_in_time_recovery_enabled
  }

  tags = local.tags
}
