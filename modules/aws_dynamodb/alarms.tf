# CloudWatch alarms on the table and each global secondary index (var.alarms; null: none).
#
# Every alarm is keyed by what it watches, never by a name or a position ("table/read_throttle",
# "index/<name>/write_capacity", "table/latency/GetItem"), so adding or removing an index adds or
# removes only that index's alarms. Alarm names carry the table's name ("<table>/...", and
# "<table>/index/<index>/..." for an index: DynamoDB names cannot hold "/"), so a renamed table
# gets its alarms renamed with it (CloudWatch replaces an alarm to rename it).

locals {
  alarms_on   = var.alarms != null
  alarm_topic = try(var.alarms.sns_topic_arn, null) == null ? [] : [var.alarms.sns_topic_arn]

  # What the throttle and capacity alarms watch: the table and each global index.
  alarm_targets = merge(
    {
      table = {
        name       = var.spec.table_name
        dimensions = { TableName = var.spec.table_name }
      }
    },
    {
      for index in var.spec.global_secondary_indexes : "index/${index.name}" => {
        name       = "${var.spec.table_name}/index/${index.name}"
        dimensions = { TableName = var.spec.table_name, GlobalSecondaryIndexName = index.name }
      }
    },
  )

  # Each target's reads and writes: what the throttle and capacity alarms are one of each for.
  alarm_target_dimensions = flatten([
    for key, target in local.alarm_targets : [
      for dimension in ["read", "write"] : { key = key, target = target, dimension = dimension }
    ]
  ])

  throttle_alarms = local.alarms_on && try(var.alarms.throttles.enabled, false) ? {
    for watched in local.alarm_target_dimensions : "${watched.key}/${watched.dimension}_throttle" => {
      name        = "${watched.target.name}/${title(watched.dimension)}ThrottleEvents"
      description = "${title(watched.dimension)} requests to ${watched.target.name} throttled (ReadThrottleEvents/WriteThrottleEvents)."
      metric      = "${title(watched.dimension)}ThrottleEvents"
      statistic   = "Sum"
      dimensions  = watched.target.dimensions
      threshold   = var.alarms.throttles.threshold
      period      = var.alarms.throttles.period
      evaluations = var.alarms.throttles.evaluation_periods
    }
  } : {}

  system_error_alarms = local.alarms_on && try(var.alarms.system_errors.enabled, false) ? {
    "table/system_errors" = {
      name        = "${var.spec.table_name}/SystemErrors"
      description = "DynamoDB answered requests to ${var.spec.table_name} with a server error (HTTP 500)."
      metric      = "SystemErrors"
      statistic   = "Sum"
      dimensions  = { TableName = var.spec.table_name }
      threshold   = var.alarms.system_errors.threshold
      period      = var.alarms.system_errors.period
      evaluations = var.alarms.system_errors.evaluation_periods
    }
  } : {}

  latency_alarms = local.alarms_on && try(var.alarms.latency.enabled, false) ? {
    for operation in var.alarms.latency.operations : "table/latency/${operation}" => {
      name        = "${var.spec.table_name}/SuccessfulRequestLatency/${operation}"
      description = "Average latency of successful ${operation} requests to ${var.spec.table_name} above ${var.alarms.latency.threshold_ms} ms."
      metric      = "SuccessfulRequestLatency"
      statistic   = "Average"
      dimensions  = { TableName = var.spec.table_name, Operation = operation }
      threshold   = var.alarms.latency.threshold_ms
      period      = var.alarms.latency.period
      evaluations = var.alarms.latency.evaluation_periods
    }
  } : {}

  metric_alarms = merge(local.throttle_alarms, local.system_error_alarms, local.latency_alarms)

  # Consumed capacity as a share of provisioned capacity. Metric math rather than a fixed
  # threshold of units: under auto scaling the provisioned capacity moves, and the share must
  # follow it. Consumed*CapacityUnits is a sum over the period, Provisioned*CapacityUnits a rate
  # per second, hence the division by PERIOD.
  capacity_alarms = local.alarms_on && local.provisioned && try(var.alarms.capacity.enabled, false) ? {
    for watched in local.alarm_target_dimensions : "${watched.key}/${watched.dimension}_capacity" => {
      name        = "${watched.target.name}/${title(watched.dimension)}CapacityUtilization"
      description = "${watched.target.name} consumed more than ${var.alarms.capacity.percent}% of its provisioned ${watched.dimension} capacity."
      dimension   = title(watched.dimension)
      dimensions  = watched.target.dimensions
    }
  } : {}
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.metric_alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  period              = each.value.period
  evaluation_periods  = each.value.evaluations
  datapoints_to_alarm = each.value.evaluations
  # No requests is no throttling, no error and no latency: missing data keeps the alarm OK.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_topic
  ok_actions         = local.alarm_topic
  tags               = local.tags

  depends_on = [aws_dynamodb_table.this]
}

resource "aws_cloudwatch_metric_alarm" "capacity" {
  for_each = local.capacity_alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.capacity.percent
  evaluation_periods  = var.alarms.capacity.evaluation_periods
  datapoints_to_alarm = var.alarms.capacity.evaluation_periods
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic
  ok_actions          = local.alarm_topic
  tags                = local.tags

  metric_query {
    id          = "utilization"
    expression  = "100 * (consumed / PERIOD(consumed)) / provisioned"
    label       = "${each.value.dimension} capacity used (%)"
    return_data = true
  }

  metric_query {
    id = "consumed"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "Consumed${each.value.dimension}CapacityUnits"
      dimensions  = each.value.dimensions
      period      = var.alarms.capacity.period
      stat        = "Sum"
    }
  }

  metric_query {
    id = "provisioned"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "Provisioned${each.value.dimension}CapacityUnits"
      dimensions  = each.value.dimensions
      period      = var.alarms.capacity.period
      stat        = "Average"
    }
  }

  depends_on = [aws_dynamodb_table.this]
}
