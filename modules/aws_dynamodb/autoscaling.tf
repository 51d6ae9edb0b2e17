# Provisioned auto scaling for the table and each global secondary index.
#
# The scaled capacity must never show up as drift, and turning scaling on or off must never
# recreate the table, so there is one table resource and no ignore_changes: under auto scaling,
# the capacity this module asks for is the table's live capacity (read here at plan time),
# clamped into the scaling range. A table that does not exist yet starts at the configured
# capacity (min_capacity when none is given).

locals {
  scalable = merge(
    {
      table = {
        resource_id = "table/${var.spec.table_name}"
        kind        = "table"
        autoscaling = var.spec.autoscaling
        read        = var.spec.read_capacity_units
        write       = var.spec.write_capacity_units
      }
    },
    {
      for index in var.spec.global_secondary_indexes : "index/${index.name}" => {
        resource_id = "table/${var.spec.table_name}/index/${index.name}"
        kind        = "index"
        autoscaling = index.autoscaling
        read        = index.read_capacity_units
        write       = index.write_capacity_units
      }
    },
  )

  scaling = {
    for pair in flatten([
      for key, item in local.scalable : [
        for dimension in ["read", "write"] : {
          key         = "${key}/${dimension}"
          resource_id = item.resource_id
          kind        = item.kind
          dimension   = dimension
          policy      = item.autoscaling[dimension]
        } if local.provisioned && try(item.autoscaling[dimension], null) != null
      ]
    ]) : pair.key => pair
  }

  # The live table, when auto scaling is on and the table exists.
  live = try(data.aws_dynamodb_table.live[0], null)
  live_capacity = local.live == null ? {} : merge(
    { table = { read = local.live.read_capacity, write = local.live.write_capacity } },
    { for index in local.live.global_secondary_index : "index/${index.name}" => { read = index.read_capacity, write = index.write_capacity } },
  )

  capacity = {
    for key, item in local.scalable : key => {
      for dimension in ["read", "write"] : dimension => (
        contains(keys(local.scaling), "${key}/${dimension}")
        ? max(
          local.scaling["${key}/${dimension}"].policy.min_capacity,
          min(
            local.scaling["${key}/${dimension}"].policy.max_capacity,
            try(local.live_capacity[key][dimension] > 0 ? local.live_capacity[key][dimension] : item[dimension], item[dimension]),
          ),
        )
        : item[dimension]
      )
    }
  }
}

data "aws_dynamodb_tables" "existing" {
  count = length(local.scaling) > 0 ? 1 : 0
}

locals {
  # ListTables answers no names at all (null) in an account without tables.
  existing_tables = length(data.aws_dynamodb_tables.existing) == 0 ? [] : (
    data.aws_dynamodb_tables.existing[0].names == null ? [] : data.aws_dynamodb_tables.existing[0].names
  )
}

data "aws_dynamodb_table" "live" {
  count = length(local.scaling) > 0 && contains(local.existing_tables, var.spec.table_name) ? 1 : 0
  name  = var.spec.table_name
}

resource "aws_appautoscaling_target" "this" {
  for_each = local.scaling

  service_namespace  = "dynamodb"
  resource_id        = each.value.resource_id
  scalable_dimension = "dynamodb:${each.value.kind}:${title(each.value.dimension)}CapacityUnits"
  min_capacity       = each.value.policy.min_capacity
  max_capacity       = each.value.policy.max_capacity

  depends_on = [aws_dynamodb_table.this]
}

resource "aws_appautoscaling_policy" "this" {
  for_each = local.scaling

  name               = "DynamoDB${title(each.value.dimension)}CapacityUtilization:${each.value.resource_id}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = each.value.policy.target_utilization
    predefined_metric_specification {
      predefined_metric_type = "DynamoDB${title(each.value.dimension)}CapacityUtilization"
    }
  }
}
