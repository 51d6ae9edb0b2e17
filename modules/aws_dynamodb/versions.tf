terraform {
  # optional() object attributes with defaults need terraform >= 1.3; 1.5 is the floor we test
  # against. OpenTofu (every release) accepts the same configuration.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}
