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
    condition     = length(setintersection(keys(var.metadata.labels), ["Name", "Environment", "Organization", "ManagedBy"])) == 0
    error_message = "metadata.labels must not set Name, Environment, Organization or ManagedBy: the module sets those tags itself."
  }
}

variable "spec" {
  description = "The table: name, region, billing mode, key schema (attributes + partition/sort key names), capacity, point-in-time recovery and server-side encryption."
  type = object({
    table_name   = string
    aws_region   = string
    billing_mode = optional(string, "PAY_PER_REQUEST")
    attributes = list(object({
      name = string
      type = string
    }))
    partition_key_name             = string
    sort_key_name                  = optional(string)
    read_capacity_units            = optional(number, 0)
    write_capacity_units           = optional(number, 0)
    point_in_time_recovery_enabled = optional(bool, false)
    server_side_encryption_enabled = optional(bool, true)
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
    condition = (var.spec.billing_mode == "PROVISIONED"
      ? var.spec.read_capacity_units >= 1 && var.spec.write_capacity_units >= 1
    : var.spec.read_capacity_units == 0 && var.spec.write_capacity_units == 0)
    error_message = "spec.read_capacity_units and spec.write_capacity_units must be at least 1 when billing_mode is PROVISIONED, and 0 when it is PAY_PER_REQUEST."
  }
}
