variable "region" {
  description = "AWS region to deploy to. null uses the region of the AWS CLI profile or AWS_REGION."
  type        = string
  default     = null

  validation {
    condition     = var.region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like an AWS region code, e.g. eu-west-1."
  }
}

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "dataprocess"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project))
    error_message = "project must be 2-16 characters of lowercase letters, digits and hyphens, starting with a letter (it is part of S3 bucket names)."
  }
}

variable "environment" {
  description = "Environment name (dev, staging, prod, ...), the second part of every resource name."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.environment))
    error_message = "environment must be 2-8 lowercase letters or digits, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource through the provider's default_tags."
  type        = map(string)
  default     = {}
}

variable "profiles_dir" {
  description = "Directory (relative to the repository root, or absolute) of the dataset profiles: one <dataset>.json per dataset, each uploaded to the staging bucket as profiles/<dataset>.json. `make plan` validates them first (dataprocess profiles check)."
  type        = string
  default     = "profiles"

  validation {
    condition     = length(trimspace(var.profiles_dir)) > 0 && !endswith(var.profiles_dir, ".json")
    error_message = "profiles_dir must be a directory of <dataset>.json files (the single-profile profile_file is gone: put that file in this directory)."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC that holds the private subnets, the database and the interface endpoints."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of /20 or larger."
  }
}

variable "az_count" {
  description = "Number of availability zones (one private subnet each). Aurora needs at least two."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4."
  }
}

variable "excluded_zone_ids" {
  description = "Availability zone ids (e.g. use1-az3) the private subnets must not use, e.g. a zone where Lambda reports \"The provided subnets contain availability zone Lambda doesn't support\". Zone ids name the same physical zone in every account (zone names do not)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.excluded_zone_ids : can(regex("^[a-z]+[0-9]+-az[0-9]+$", id))])
    error_message = "excluded_zone_ids must be availability zone ids such as use1-az3 or euw1-az2 (aws ec2 describe-availability-zones lists them)."
  }
}

variable "lambda_memory_mb" {
  description = "Memory (MB) per function. CPU scales with memory; the streaming stages are CPU bound."
  type = object({
    enrichment     = number
    anonymization  = number
    consolidation  = number
    record_failure = number
  })
  default = {
    enrichment     = 1024
    anonymization  = 1024
    consolidation  = 1024
    record_failure = 256
  }

  validation {
    condition     = alltrue([for m in values(var.lambda_memory_mb) : m >= 128 && m <= 10240])
    error_message = "Each lambda_memory_mb value must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout (seconds) per function."
  type = object({
    enrichment     = number
    anonymization  = number
    consolidation  = number
    record_failure = number
  })
  default = {
    enrichment     = 900
    anonymization  = 900
    consolidation  = 900
    record_failure = 60
  }

  validation {
    condition     = alltrue([for t in values(var.lambda_timeout_seconds) : t >= 1 && t <= 900])
    error_message = "Each lambda_timeout_seconds value must be between 1 and 900 (the Lambda maximum)."
  }
}

variable "consolidation_reserved_concurrency" {
  description = "Reserved concurrency of the Consolidation function, or null for none (the default). Lambda refuses a reservation that leaves the account fewer than 100 unreserved executions, and new accounts often have a quota of 10: `make plan` checks it. Database connections are capped by db_app_connection_limit instead."
  type        = number
  default     = null

  validation {
    condition     = var.consolidation_reserved_concurrency == null ? true : var.consolidation_reserved_concurrency >= 1 && floor(var.consolidation_reserved_concurrency) == var.consolidation_reserved_concurrency
    error_message = "consolidation_reserved_concurrency must be null (no reservation) or a whole number of at least 1 (0 would stop every load)."
  }
}

variable "run_status_reserved_concurrency" {
  description = "Reserved concurrency of the RunStatus function (GET /runs), or null for none (the default). Same quota rule as consolidation_reserved_concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.run_status_reserved_concurrency == null ? true : var.run_status_reserved_concurrency >= 1 && floor(var.run_status_reserved_concurrency) == var.run_status_reserved_concurrency
    error_message = "run_status_reserved_concurrency must be null (no reservation) or a whole number of at least 1."
  }
}

variable "log_level" {
  description = "Application log level of the functions (Lambda JSON logging)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "log_retention_days" {
  description = "Retention of every CloudWatch log group (functions, state machine, flow logs, database)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "db_engine_version" {
  description = "Aurora PostgreSQL engine version. Scale-to-zero needs 13.15, 14.12, 15.7, 16.3 or later."
  type        = string
  default     = "16.6"

  validation {
    condition     = can(regex("^1[3-9]\\.[0-9]+$", var.db_engine_version))
    error_message = "db_engine_version must be an Aurora PostgreSQL major.minor version, e.g. 16.6."
  }
}

variable "db_name" {
  description = "Name of the database created in the cluster."
  type        = string
  default     = "dataprocess"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and contain only lowercase letters, digits and underscores."
  }
}

variable "db_master_username" {
  description = "Master user name. Its password is generated and rotated by RDS in Secrets Manager (manage_master_user_password)."
  type        = string
  default     = "dataprocess_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_master_username)) && !contains(["admin", "postgres", "rdsadmin"], var.db_master_username)
    error_message = "db_master_username must start with a letter, contain only lowercase letters, digits and underscores, and not be a reserved name."
  }
}

variable "db_app_connection_limit" {
  description = "CONNECTION LIMIT of the dataprocess_app database role (replay check, consolidation, record failure): the most connections the loads can hold at once, now that no reserved concurrency caps them. Over the limit PostgreSQL answers 53300, which the workflow retries."
  type        = number
  default     = 20

  validation {
    condition     = var.db_app_connection_limit >= 1 && var.db_app_connection_limit <= 1000 && floor(var.db_app_connection_limit) == var.db_app_connection_limit
    error_message = "db_app_connection_limit must be a whole number between 1 and 1000."
  }
}

variable "db_min_capacity" {
  description = "Minimum Aurora capacity (ACU). 0 lets the instance pause when idle (no compute cost)."
  type        = number
  default     = 0

  validation {
    condition     = var.db_min_capacity >= 0 && var.db_min_capacity <= 256 && floor(var.db_min_capacity * 2) == var.db_min_capacity * 2
    error_message = "db_min_capacity must be between 0 and 256 in steps of 0.5."
  }
}

variable "db_max_capacity" {
  description = "Maximum Aurora capacity (ACU)."
  type        = number
  default     = 8

  validation {
    condition     = var.db_max_capacity >= 1 && var.db_max_capacity <= 256 && floor(var.db_max_capacity * 2) == var.db_max_capacity * 2
    error_message = "db_max_capacity must be between 1 and 256 in steps of 0.5."
  }
}

variable "db_seconds_until_auto_pause" {
  description = "Idle seconds before the instance pauses (used when db_min_capacity is 0). The first connection after a pause waits for the resume."
  type        = number
  default     = 600

  validation {
    condition     = var.db_seconds_until_auto_pause >= 300 && var.db_seconds_until_auto_pause <= 86400
    error_message = "db_seconds_until_auto_pause must be between 300 and 86400."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery) kept for the cluster."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "deletion_protection" {
  description = "Protects the database cluster from deletion. Set to false (and apply) before `make destroy`."
  type        = bool
  default     = true
}

variable "force_destroy_buckets" {
  description = "Lets `terraform destroy` delete non-empty buckets. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "staging_expiration_days" {
  description = "Days after which stage outputs under staging/ in the staging bucket expire."
  type        = number
  default     = 7

  validation {
    condition     = var.staging_expiration_days >= 1 && var.staging_expiration_days <= 365
    error_message = "staging_expiration_days must be between 1 and 365."
  }
}

variable "input_noncurrent_version_expiration_days" {
  description = "Days after which noncurrent versions of input objects (overwritten, deleted or quarantined) expire."
  type        = number
  default     = 30

  validation {
    condition     = var.input_noncurrent_version_expiration_days >= 1
    error_message = "input_noncurrent_version_expiration_days must be at least 1."
  }
}

variable "hmac_key_version" {
  description = "Version of the generated HMAC pseudonymisation key. Increase it to write a new random key (existing pseudonyms then change)."
  type        = number
  default     = 1

  validation {
    condition     = var.hmac_key_version >= 1 && floor(var.hmac_key_version) == var.hmac_key_version
    error_message = "hmac_key_version must be a positive integer."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. SNS topics) notified when a run fails or an event reaches the dead-letter queue."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_actions : startswith(a, "arn:")])
    error_message = "alarm_actions must be ARNs."
  }
}

variable "upload_api_authorization" {
  description = "Authorization of POST /uploads: AWS_IAM (SigV4-signed calls, e.g. `dataprocess upload`) or JWT (a JWT authorizer with upload_jwt_issuer and upload_jwt_audience)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "JWT"], var.upload_api_authorization)
    error_message = "upload_api_authorization must be AWS_IAM or JWT (the route is never open)."
  }
}

variable "upload_jwt_issuer" {
  description = "Issuer URL of the JWT authorizer (used when upload_api_authorization is JWT), e.g. a Cognito user pool or an OIDC provider."
  type        = string
  default     = null

  validation {
    condition     = var.upload_jwt_issuer == null || can(regex("^https://", var.upload_jwt_issuer))
    error_message = "upload_jwt_issuer must be an https:// URL."
  }
}

variable "upload_jwt_audience" {
  description = "Accepted audiences (client ids) of the JWT authorizer (used when upload_api_authorization is JWT)."
  type        = list(string)
  default     = []
}

variable "upload_max_bytes" {
  description = "Largest file (bytes) the upload API presigns; S3 enforces it through the POST policy's content-length-range. S3 caps a POST upload at 5 GB."
  type        = number
  default     = 1073741824

  validation {
    condition     = var.upload_max_bytes >= 1 && var.upload_max_bytes <= 5000000000 && floor(var.upload_max_bytes) == var.upload_max_bytes
    error_message = "upload_max_bytes must be a whole number of bytes between 1 and 5000000000."
  }
}

variable "upload_url_expiry_seconds" {
  description = "Lifetime (seconds) of a presigned upload; S3 refuses the POST after it."
  type        = number
  default     = 900

  validation {
    condition     = var.upload_url_expiry_seconds >= 60 && var.upload_url_expiry_seconds <= 3600
    error_message = "upload_url_expiry_seconds must be between 60 and 3600."
  }
}

variable "upload_url_memory_mb" {
  description = "Memory (MB) of the UploadUrl function (it only signs a policy)."
  type        = number
  default     = 256

  validation {
    condition     = var.upload_url_memory_mb >= 128 && var.upload_url_memory_mb <= 10240
    error_message = "upload_url_memory_mb must be between 128 and 10240."
  }
}

variable "upload_api_throttling_rate_limit" {
  description = "Steady-state requests per second accepted by the upload API (stage default route throttling)."
  type        = number
  default     = 10

  validation {
    condition     = var.upload_api_throttling_rate_limit >= 1 && var.upload_api_throttling_rate_limit <= 10000
    error_message = "upload_api_throttling_rate_limit must be between 1 and 10000."
  }
}

variable "upload_api_throttling_burst_limit" {
  description = "Burst of requests accepted by the upload API above the rate limit."
  type        = number
  default     = 20

  validation {
    condition     = var.upload_api_throttling_burst_limit >= 1 && var.upload_api_throttling_burst_limit <= 5000
    error_message = "upload_api_throttling_burst_limit must be between 1 and 5000."
  }
}
