"""planton: deploy AWS DynamoDB tables from a Kubernetes-style manifest with tofu/terraform."""

__version__ = "0.1.0"
