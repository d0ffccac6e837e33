data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# Zones of the region that need no opt-in (Local and Wavelength Zones do) and that the user has not
# excluded (excluded_zone_ids: zone ids, the same physical zone in every account).
data "aws_availability_zones" "available" {
  state            = "available"
  exclude_zone_ids = var.excluded_zone_ids

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

# The SSM interface endpoint's service, named from the partition: its zones are the only ones a
# private subnet may use (an interface endpoint cannot be placed in a zone its service lacks).
data "aws_vpc_endpoint_service" "ssm" {
  service_name = "${local.reverse_dns_prefix}.${local.region}.ssm"
  service_type = "Interface"
}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  dns_suffix = data.aws_partition.current.dns_suffix

  # Service names of VPC endpoints: com.amazonaws.<region>.<service> in the commercial partition,
  # cn.com.amazonaws.… in China.
  reverse_dns_prefix = data.aws_partition.current.reverse_dns_prefix

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  # The private subnets' zones: available without opt-in, not excluded, served by the SSM endpoint
  # (vpc.tf refuses a plan with fewer than az_count of them).
  candidate_azs = [for az in data.aws_availability_zones.available.names : az if contains(data.aws_vpc_endpoint_service.ssm.availability_zones, az)]
  azs           = slice(local.candidate_azs, 0, min(var.az_count, length(local.candidate_azs)))

  # Bucket names are global: the account id and region make them unique.
  input_bucket_name   = "${local.name}-input-${local.account_id}-${local.region}"
  staging_bucket_name = "${local.name}-staging-${local.account_id}-${local.region}"

  # Key layout. Uploads land under incoming/ (the only prefix that starts a run); the failure path
  # moves a source it could not load to quarantine/. Stage outputs go to staging/<run-id>/ in the
  # staging bucket and expire; the dataset profiles live next to them under profiles/ (no expiry).
  incoming_prefix   = "incoming/"
  quarantine_prefix = "quarantine/"
  staging_prefix    = "staging"
  profile_prefix    = "profiles/"

  # One dataset per profiles/<dataset>.json (profiles.tf uploads them; the upload API accepts exactly these names).
  profiles_path = startswith(var.profiles_dir, "/") ? var.profiles_dir : "${path.module}/${var.profiles_dir}"
  datasets      = sort([for f in fileset(local.profiles_path, "*.json") : trimsuffix(f, ".json")])

  # Lambda packages made by scripts/package.sh (`make package`): one deterministic zip per project.
  # The database package (DataProcess.DatabaseFunctions) holds every function that reaches PostgreSQL:
  # ReplayCheck, Consolidation, RecordFailure, RunStatus and migrate.
  packages = {
    enrichment    = "dist/enrichment.zip"
    anonymization = "dist/anonymization.zip"
    database      = "dist/database.zip"
    uploadurl     = "dist/uploadurl.zip"
  }

  # The alias every caller invokes (compute.tf: aws_lambda_alias.live).
  function_alias = "live"

  lambda_runtime      = "dotnet10"
  lambda_architecture = "arm64"

  # Environment shared by every function (compute.tf: local.function_environments). Only identifiers.
  common_environment = {
    DATAPROCESS_OBJECT_STORE = "s3"
  }

  # How the functions reach Aurora (docs/infrastructure.md, "Database access"). Every function that
  # connects gets where the database is and the CA bundle its package ships (SSL Mode VerifyFull),
  # never a password. The application functions connect as a least-privilege role with an IAM
  # auth token; only the migrate function holds the master secret.
  db_app_user      = "dataprocess_app"
  db_readonly_user = "dataprocess_readonly"
  database_users = {
    app      = local.db_app_user
    readonly = local.db_readonly_user
  }

  database_environment = {
    DATAPROCESS_DB_HOST          = aws_rds_cluster.this.endpoint
    DATAPROCESS_DB_PORT          = tostring(aws_rds_cluster.this.port)
    DATAPROCESS_DB_NAME          = var.db_name
    DATAPROCESS_DB_SSL_ROOT_CERT = "rds-ca-bundle.pem"
  }

  app_database_environment = merge(local.database_environment, {
    DATAPROCESS_DB_USER = local.db_app_user
  })

  # Values bound to the ${...} placeholders of workflow.asl.json (see stepfunctions.tf). The Task
  # Resources are the functions' alias ARNs (function:<name>:live), so a rollback moves no state
  # machine.
  workflow_template_vars = {
    enrichment_function_arn     = aws_lambda_alias.live["enrichment"].arn
    anonymization_function_arn  = aws_lambda_alias.live["anonymization"].arn
    consolidation_function_arn  = aws_lambda_alias.live["consolidation"].arn
    record_failure_function_arn = aws_lambda_alias.live["record_failure"].arn
    replay_check_function_arn   = aws_lambda_alias.live["replay_check"].arn
    profile_bucket              = aws_s3_bucket.staging.id
    profile_prefix              = local.profile_prefix
    staging_bucket              = aws_s3_bucket.staging.id
    staging_prefix              = local.staging_prefix
  }
}

locals {
  # Object ARNs the IAM policies are scoped to.
  incoming_objects_arn   = "${aws_s3_bucket.input.arn}/${local.incoming_prefix}*"
  quarantine_objects_arn = "${aws_s3_bucket.input.arn}/${local.quarantine_prefix}*"
  staging_objects_arn    = "${aws_s3_bucket.staging.arn}/${local.staging_prefix}/*"
  profile_objects_arn    = "${aws_s3_bucket.staging.arn}/${local.profile_prefix}*"

  # SSM's Secrets Manager reference parameters. The parameter name embeds the secret id the caller
  # passes (name or ARN), so the path is as narrow as IAM can express; the secretsmanager
  # statements next to it pin the actual secret.
  ssm_secret_reference_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/aws/reference/secretsmanager/*"

  # Built from its name so the KMS key policy can name it without a dependency cycle.
  object_created_rule_name = "${local.name}-object-created"
  object_created_rule_arn  = "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${local.object_created_rule_name}"
}
