locals {
  provisioned = var.spec.billing_mode == "PROVISIONED"

  # Name and ManagedBy always; Environment and Organization when the manifest sets them;
  # PlantonManifest when planton runs the module (var.manifest_key); then the manifest's labels
  # and spec.tags (the variables' validations keep them off the keys above). Labels under a
  # *.project-planton.org/ key steer planton and are not tags.
  tag_labels = {
    for key, value in var.metadata.labels : key => value
    if !can(regex("^([a-z0-9-]+\\.)*project-planton\\.org/", key))
  }
  tags = merge(
    local.tag_labels,
    var.spec.tags,
    var.metadata.env == null ? {} : { Environment = var.metadata.env },
    var.metadata.org == null ? {} : { Organization = var.metadata.org },
    var.manifest_key == null ? {} : { PlantonManifest = var.manifest_key },
    {
      Name      = var.spec.table_name
      ManagedBy = "planton"
    },
  )

  # A key ARN is used as given; a key id, alias or alias ARN is looked up (kms.tf), so the
  # table records the key's ARN and the next plan shows no drift.
  kms_key_arn = var.spec.kms_key == null ? null : (
    can(regex("^arn:[^:]+:kms:[^:]+:[0-9]+:key/", var.spec.kms_key)) ? var.spec.kms_key : data.aws_kms_key.sse[0].arn
  )
}

resource "aws_dynamodb_table" "this" {
  name         = var.spec.table_name
  billing_mode = var.spec.billing_mode
  hash_key     = var.spec.partition_key_name
  range_key    = var.spec.sort_key_name
  table_class  = var.spec.table_class

  # The provider rejects capacity on on-demand tables, so it is only sent when provisioned.
  # Under auto scaling the capacity is the table's live one (autoscaling.tf), never drift.
  read_capacity  = local.provisioned ? local.capacity["table"].read : null
  write_capacity = local.provisioned ? local.capacity["table"].write : null

  deletion_protection_enabled = var.spec.deletion_protection_enabled

  stream_enabled   = var.spec.stream_view_type != null
  stream_view_type = var.spec.stream_view_type

  dynamic "attribute" {
    for_each = var.spec.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.spec.global_secondary_indexes
    iterator = index
    content {
      name               = index.value.name
      hash_key           = index.value.partition_key_name
      range_key          = index.value.sort_key_name
      projection_type    = index.value.projection_type
      non_key_attributes = index.value.projection_type == "INCLUDE" ? index.value.non_key_attributes : null
      read_capacity      = local.provisioned ? local.capacity["index/${index.value.name}"].read : null
      write_capacity     = local.provisioned ? local.capacity["index/${index.value.name}"].write : null

      dynamic "on_demand_throughput" {
        for_each = index.value.max_read_request_units != null || index.value.max_write_request_units != null ? [index.value] : []
        content {
          max_read_request_units  = coalesce(on_demand_throughput.value.max_read_request_units, -1)
          max_write_request_units = coalesce(on_demand_throughput.value.max_write_request_units, -1)
        }
      }
    }
  }

  dynamic "local_secondary_index" {
    for_each = var.spec.local_secondary_indexes
    iterator = index
    content {
      name               = index.value.name
      range_key          = index.value.sort_key_name
      projection_type    = index.value.projection_type
      non_key_attributes = index.value.projection_type == "INCLUDE" ? index.value.non_key_attributes : null
    }
  }

  # An unset dimension is sent as -1 (no maximum): left out, the provider would keep an old one.
  dynamic "on_demand_throughput" {
    for_each = var.spec.max_read_request_units != null || var.spec.max_write_request_units != null ? [var.spec] : []
    content {
      max_read_request_units  = coalesce(on_demand_throughput.value.max_read_request_units, -1)
      max_write_request_units = coalesce(on_demand_throughput.value.max_write_request_units, -1)
    }
  }

  # Always present, so turning TTL off really turns it off (an absent block leaves it as is).
  ttl {
    enabled        = var.spec.ttl_attribute_name != null
    attribute_name = var.spec.ttl_attribute_name == null ? "" : var.spec.ttl_attribute_name
  }

  # enabled = true uses a KMS key: the customer-managed one in kms_key, else the AWS managed
  # key (alias/aws/dynamodb); false leaves the table on DynamoDB's default AWS owned key. Data
  # at rest is encrypted either way.
  server_side_encryption {
    enabled     = var.spec.server_side_encryption_enabled
    kms_key_arn = var.spec.server_side_encryption_enabled ? local.kms_key_arn : null
  }

  point_in_time_recovery {
    enabled = var.spec.point_in_time_recovery_enabled
    # Always explicit while enabled: left out, the provider would keep a period set earlier.
    recovery_period_in_days = var.spec.point_in_time_recovery_enabled ? coalesce(var.spec.point_in_time_recovery_period_days, 35) : null
  }

  tags = local.tags

  # DynamoDB cannot change a local secondary index in place, and the provider tells them apart
  # by name only (a changed projection or sort key under the same name would be planned as no
  # change): any change to them replaces the table, which planton's replace guard then catches.
  lifecycle {
    replace_triggered_by = [terraform_data.local_indexes]
  }
}

# Records the local indexes (and their sort keys' types) for the trigger above. Always present:
# terraform cannot trigger on a resource that has no instance. The list is recorded as given,
# order included; it is not sorted here, since a new value for a table already applied would
# replace it (planton gives a stable order instead: see the spec variable's description).
resource "terraform_data" "local_indexes" {
  input = {
    indexes = var.spec.local_secondary_indexes
    # A sort key's type too: the provider plans a type change as a mere attribute update.
    key_types = {
      for attribute in var.spec.attributes : attribute.name => attribute.type
      if contains([for index in var.spec.local_secondary_indexes : index.sort_key_name], attribute.name)
    }
  }
}

resource "aws_dynamodb_contributor_insights" "table" {
  count      = var.spec.contributor_insights_enabled ? 1 : 0
  table_name = aws_dynamodb_table.this.name
}
