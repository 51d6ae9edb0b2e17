variable "metadata" {
  description = "The manifest's metadata: name (required), id, org, env, labels, annotations and tags. Labels become AWS tags."
  type = object({
    name        = string
    id          = optional(string)
    org         = optional(string)
    env         = optional(string)
    labels      = optional(map(string), {})
    annotations = optional(map(string), {})
    tags        = optional(list(string), [])
  })

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$", var.metadata.name))
    error_message = "metadata.name must be 1-63 characters of letters, digits, '.', '_' and '-', starting with a letter or digit."
  }

  validation {
    condition     = length(setintersection(keys(var.metadata.labels), ["Name", "Environment", "Organization", "ManagedBy", "PlantonManifest"])) == 0
    error_message = "metadata.labels must not set Name, Environment, Organization, ManagedBy or PlantonManifest: the module sets those tags itself."
  }
}

variable "manifest_key" {
  description = "The key planton knows the manifest by (metadata.name, with a hash of org, env and id when any is set), tagged on the table as PlantonManifest: another planton manifest, with its state wherever it is, then never adopts the table. Null (the default, for callers of the module alone): no such tag."
  type        = string
  default     = null

  validation {
    condition     = var.manifest_key == null || can(regex("^[A-Za-z0-9._-]{1,128}$", var.manifest_key))
    error_message = "manifest_key must be 1-128 characters of letters, digits, '.', '_' and '-'."
  }
}

variable "spec" {
  description = "The table: name, region, billing mode, key schema (attributes + partition/sort key names), capacity, indexes, TTL, streams, encryption, point-in-time recovery, table class, protection, contributor insights, tags, auto scaling and on-demand throughput. Keep the order of local_secondary_indexes, and of each one's non_key_attributes, stable once applied: the replacement trigger (terraform_data.local_indexes) and the provider (non_key_attributes is a list there) both record it, so changing only that order replaces the table and loses its items (planton sorts them by name and keeps the order a state already records)."
  type = object({
    table_name   = string
    aws_region   = string
    billing_mode = optional(string, "PAY_PER_REQUEST")
    attributes = list(object({
      name = string
      type = string
    }))
    partition_key_name                 = string
    sort_key_name                      = optional(string)
    read_capacity_units                = optional(number, 0)
    write_capacity_units               = optional(number, 0)
    point_in_time_recovery_enabled     = optional(bool, false)
    point_in_time_recovery_period_days = optional(number)
    server_side_encryption_enabled     = optional(bool, true)
    kms_key                            = optional(string)
    global_secondary_indexes = optional(list(object({
      name                    = string
      partition_key_name      = string
      sort_key_name           = optional(string)
      projection_type         = optional(string, "ALL")
      non_key_attributes      = optional(list(string), [])
      read_capacity_units     = optional(number, 0)
      write_capacity_units    = optional(number, 0)
      max_read_request_units  = optional(number)
      max_write_request_units = optional(number)
      autoscaling = optional(object({
        read = optional(object({
          min_capacity       = number
          max_capacity       = number
          target_utilization = optional(number, 70)
        }))
        write = optional(object({
          min_capacity       = number
          max_capacity       = number
          target_utilization = optional(number, 70)
        }))
      }))
    })), [])
    local_secondary_indexes = optional(list(object({
      name               = string
      sort_key_name      = string
      projection_type    = optional(string, "ALL")
      non_key_attributes = optional(list(string), [])
    })), [])
    ttl_attribute_name           = optional(string)
    stream_view_type             = optional(string)
    table_class                  = optional(string, "STANDARD")
    deletion_protection_enabled  = optional(bool, false)
    contributor_insights_enabled = optional(bool, false)
    tags                         = optional(map(string), {})
    autoscaling = optional(object({
      read = optional(object({
        min_capacity       = number
        max_capacity       = number
        target_utilization = optional(number, 70)
      }))
      write = optional(object({
        min_capacity       = number
        max_capacity       = number
        target_utilization = optional(number, 70)
      }))
    }))
    max_read_request_units  = optional(number)
    max_write_request_units = optional(number)
  })

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.spec.table_name))
    error_message = "spec.table_name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$", var.spec.aws_region))
    error_message = "spec.aws_region must be an AWS region code such as us-east-1."
  }

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.spec.billing_mode)
    error_message = "spec.billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }

  validation {
    condition     = alltrue([for a in var.spec.attributes : contains(["S", "N", "B"], a.type)])
    error_message = "Every spec.attributes[*].type must be S, N or B."
  }

  validation {
    condition     = length(distinct([for a in var.spec.attributes : a.name])) == length(var.spec.attributes)
    error_message = "spec.attributes must not name the same attribute twice."
  }

  validation {
    condition     = contains([for a in var.spec.attributes : a.name], var.spec.partition_key_name)
    error_message = "spec.partition_key_name must be one of spec.attributes."
  }

  validation {
    condition     = var.spec.sort_key_name == null ? true : (contains([for a in var.spec.attributes : a.name], var.spec.sort_key_name) && var.spec.sort_key_name != var.spec.partition_key_name)
    error_message = "spec.sort_key_name must be one of spec.attributes and differ from spec.partition_key_name."
  }

  validation {
    condition = alltrue([
      for name in concat(
        [for index in var.spec.global_secondary_indexes : index.partition_key_name],
        [for index in var.spec.global_secondary_indexes : index.sort_key_name if index.sort_key_name != null],
        [for index in var.spec.local_secondary_indexes : index.sort_key_name],
      ) : contains([for a in var.spec.attributes : a.name], name)
    ])
    error_message = "Every index key must be one of spec.attributes."
  }

  validation {
    condition = alltrue([
      for a in var.spec.attributes : contains(compact(concat(
        [var.spec.partition_key_name, var.spec.sort_key_name],
        [for index in var.spec.global_secondary_indexes : index.partition_key_name],
        [for index in var.spec.global_secondary_indexes : index.sort_key_name],
        [for index in var.spec.local_secondary_indexes : index.sort_key_name],
      )), a.name)
    ])
    error_message = "Every entry of spec.attributes must be a key of the table or of an index."
  }

  validation {
    condition = (var.spec.billing_mode == "PROVISIONED"
      ? var.spec.read_capacity_units >= 1 && var.spec.write_capacity_units >= 1 && var.spec.read_capacity_units <= 40000 && var.spec.write_capacity_units <= 40000
    : var.spec.read_capacity_units == 0 && var.spec.write_capacity_units == 0)
    error_message = "spec.read_capacity_units and spec.write_capacity_units must be 1-40000 when billing_mode is PROVISIONED, and 0 when it is PAY_PER_REQUEST."
  }

  validation {
    condition = alltrue([
      for index in var.spec.global_secondary_indexes : (var.spec.billing_mode == "PROVISIONED"
        ? index.read_capacity_units >= 1 && index.write_capacity_units >= 1 && index.read_capacity_units <= 40000 && index.write_capacity_units <= 40000
      : index.read_capacity_units == 0 && index.write_capacity_units == 0)
    ])
    error_message = "Every global secondary index's read_capacity_units and write_capacity_units must be 1-40000 when billing_mode is PROVISIONED, and 0 when it is PAY_PER_REQUEST."
  }

  validation {
    condition     = length(var.spec.global_secondary_indexes) <= 20 && length(var.spec.local_secondary_indexes) <= 5
    error_message = "A table has at most 20 global and 5 local secondary indexes."
  }

  validation {
    condition = alltrue([
      for name in concat([for index in var.spec.global_secondary_indexes : index.name], [for index in var.spec.local_secondary_indexes : index.name]) :
      can(regex("^[a-zA-Z0-9_.-]{3,255}$", name))
    ])
    error_message = "Index names must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }

  validation {
    condition = length(distinct(concat([for index in var.spec.global_secondary_indexes : index.name], [for index in var.spec.local_secondary_indexes : index.name]))) == (
      length(var.spec.global_secondary_indexes) + length(var.spec.local_secondary_indexes)
    )
    error_message = "Index names must be unique across global and local secondary indexes."
  }

  validation {
    condition     = length(var.spec.local_secondary_indexes) == 0 || var.spec.sort_key_name != null
    error_message = "Local secondary indexes need the table to have a sort key (spec.sort_key_name)."
  }

  validation {
    condition = alltrue([
      for index in concat(var.spec.global_secondary_indexes, var.spec.local_secondary_indexes) :
      contains(["ALL", "KEYS_ONLY", "INCLUDE"], index.projection_type) && (index.projection_type == "INCLUDE") == (length(index.non_key_attributes) > 0)
    ])
    error_message = "Every index's projection_type must be ALL, KEYS_ONLY or INCLUDE, with non_key_attributes exactly when it is INCLUDE."
  }

  validation {
    condition     = sum(concat([0], [for index in concat(var.spec.global_secondary_indexes, var.spec.local_secondary_indexes) : length(index.non_key_attributes)])) <= 100
    error_message = "At most 100 INCLUDE-projected attributes across all indexes."
  }

  validation {
    condition     = var.spec.stream_view_type == null ? true : contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], var.spec.stream_view_type)
    error_message = "spec.stream_view_type must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES (null turns the stream off)."
  }

  validation {
    condition     = contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.spec.table_class)
    error_message = "spec.table_class must be STANDARD or STANDARD_INFREQUENT_ACCESS."
  }

  validation {
    condition     = var.spec.point_in_time_recovery_period_days == null ? true : var.spec.point_in_time_recovery_period_days >= 1 && var.spec.point_in_time_recovery_period_days <= 35
    error_message = "spec.point_in_time_recovery_period_days must be 1-35."
  }

  validation {
    condition = alltrue([
      for policy in flatten([
        for scaling in concat([var.spec.autoscaling], [for index in var.spec.global_secondary_indexes : index.autoscaling]) :
        scaling == null ? [] : [for p in [scaling.read, scaling.write] : p if p != null]
      ]) : policy.min_capacity >= 1 && policy.min_capacity <= policy.max_capacity && policy.max_capacity <= 40000 && policy.target_utilization >= 20 && policy.target_utilization <= 90
    ])
    error_message = "Every auto scaling policy needs 1 <= min_capacity <= max_capacity <= 40000 and a target_utilization of 20-90."
  }

  validation {
    condition     = length(setintersection(keys(var.spec.tags), ["Name", "Environment", "Organization", "ManagedBy", "PlantonManifest"])) == 0 && alltrue([for key in keys(var.spec.tags) : !startswith(lower(key), "aws:")])
    error_message = "spec.tags must not set Name, Environment, Organization, ManagedBy or PlantonManifest (the module sets those) nor use the reserved aws: prefix."
  }
}

variable "alarms" {
  description = "CloudWatch alarms on the table and each global secondary index (alarms.tf). Null (the default): none. An object (even {}) turns on every kind with its defaults; each kind can be turned off (enabled = false) or given its own threshold, period (seconds, a multiple of 60) and evaluation_periods (consecutive breaching periods; period x evaluation_periods at most a day). throttles: ReadThrottleEvents and WriteThrottleEvents (Sum) of the table and each index, above threshold (default 0) in 5 periods of 60 s. system_errors: SystemErrors (Sum) of the table, above threshold (default 0) in 15 periods of 60 s. latency: SuccessfulRequestLatency (Average) of each of operations (default GetItem, PutItem, Query), above threshold_ms (default 100) in 10 periods of 60 s. capacity (PROVISIONED tables only): consumed capacity above percent (default 80) of provisioned capacity, reads and writes of the table and each index, in 3 periods of 300 s. sns_topic_arn (optional) is notified when an alarm fires and when it is OK again."
  type = object({
    sns_topic_arn = optional(string)
    throttles = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      period             = optional(number, 60)
      evaluation_periods = optional(number, 5)
    }), {})
    system_errors = optional(object({
      enabled            = optional(bool, true)
      threshold          = optional(number, 0)
      period             = optional(number, 60)
      evaluation_periods = optional(number, 15)
    }), {})
    latency = optional(object({
      enabled            = optional(bool, true)
      threshold_ms       = optional(number, 100)
      period             = optional(number, 60)
      evaluation_periods = optional(number, 10)
      operations         = optional(list(string), ["GetItem", "PutItem", "Query"])
    }), {})
    capacity = optional(object({
      enabled            = optional(bool, true)
      percent            = optional(number, 80)
      period             = optional(number, 300)
      evaluation_periods = optional(number, 3)
    }), {})
  })
  default = null

  validation {
    condition     = try(var.alarms.sns_topic_arn, null) == null || can(regex("^arn:aws[a-z-]*:sns:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarms.sns_topic_arn))
    error_message = "alarms.sns_topic_arn must be a standard SNS topic's ARN: arn:aws:sns:REGION:ACCOUNT:NAME."
  }

  validation {
    condition = var.alarms == null ? true : alltrue([
      for kind in [var.alarms.throttles, var.alarms.system_errors, var.alarms.latency, var.alarms.capacity] :
      kind.period >= 60 && kind.period % 60 == 0 && kind.evaluation_periods >= 1 && floor(kind.evaluation_periods) == kind.evaluation_periods && kind.period * kind.evaluation_periods <= 86400
    ])
    error_message = "Every alarm's period must be a multiple of 60 seconds (DynamoDB publishes its metrics once a minute) and evaluation_periods a whole number of at least 1, with period x evaluation_periods at most 86400 (a day)."
  }

  validation {
    condition     = var.alarms == null ? true : var.alarms.throttles.threshold >= 0 && var.alarms.system_errors.threshold >= 0 && var.alarms.latency.threshold_ms > 0
    error_message = "alarms.throttles.threshold and alarms.system_errors.threshold must be 0 or more, and alarms.latency.threshold_ms greater than 0."
  }

  validation {
    condition     = var.alarms == null ? true : var.alarms.capacity.percent >= 1 && var.alarms.capacity.percent <= 100
    error_message = "alarms.capacity.percent must be 1-100."
  }

  validation {
    condition = var.alarms == null ? true : (!var.alarms.latency.enabled || (
      length(var.alarms.latency.operations) > 0
      && length(distinct(var.alarms.latency.operations)) == length(var.alarms.latency.operations)
      && alltrue([for operation in var.alarms.latency.operations : contains(["BatchExecuteStatement", "BatchGetItem", "BatchWriteItem", "DeleteItem", "ExecuteStatement", "ExecuteTransaction", "GetItem", "PutItem", "Query", "Scan", "TransactGetItems", "TransactWriteItems", "UpdateItem"], operation)])
    ))
    error_message = "alarms.latency.operations must name each operation once, at least one, from BatchExecuteStatement, BatchGetItem, BatchWriteItem, DeleteItem, ExecuteStatement, ExecuteTransaction, GetItem, PutItem, Query, Scan, TransactGetItems, TransactWriteItems and UpdateItem."
  }
}
