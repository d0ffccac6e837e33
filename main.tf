# DataProcess: a serverless, event-driven ETL pipeline.
# S3 (incoming/) → EventBridge → Step Functions → Lambda (Enrichment ∥ Anonymization → Consolidation)
# → Aurora PostgreSQL Serverless v2. See docs/infrastructure.md.

terraform {
  # 1.11: write-only arguments (secret_string_wo) and ephemeral resources (random_password) are
  # used to keep the HMAC key out of state and plan files.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.27" # first release that accepts the dotnet10 Lambda runtime
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.7.1" # ephemeral "random_password"
    }
  }

  # Partial configuration: bucket, key, region (and use_lockfile) come from backend.hcl, see
  # backend.hcl.example. `make plan` runs `terraform init -backend-config=backend.hcl`.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
