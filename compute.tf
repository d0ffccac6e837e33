# The pipeline's Lambda functions, one `aws_lambda_function.this` instance per entry of
# local.functions. Managed dotnet10 runtime on arm64 (Graviton), Stream handlers
# (`Assembly::Namespace.Type::Method`), deterministic zips from scripts/package.sh (`make package`),
# JSON logs to a KMS-encrypted log group with retention, X-Ray active tracing, environment
# encrypted with the pipeline key. Only the functions that reach the database run in the private
# subnets (`vpc = true`); the others only call S3 and SSM, or only sign (UploadUrl).
#
# The offline rules in tools/ read these maps statically (tools/lib/terraform.mjs expands the
# for_each): which functions are in the VPC, which environment and role each one gets.

locals {
  functions = {
    enrichment = {
      name                 = "${local.name}-enrichment"
      description          = "Streams the source object and writes the enrichment fields as NDJSON to staging"
      handler              = "DataProcess.Enrichment::DataProcess.Enrichment.EnrichmentFunction::HandleAsync"
      package              = local.packages.enrichment
      memory_mb            = var.lambda_memory_mb.enrichment
      timeout_seconds      = var.lambda_timeout_seconds.enrichment
      reserved_concurrency = null
      vpc                  = false
    }
    anonymization = {
      name                 = "${local.name}-anonymization"
      description          = "Streams the source object and writes the pseudonymised records as NDJSON to staging"
      handler              = "DataProcess.Anonymization::DataProcess.Anonymization.AnonymizationFunction::HandleAsync"
      package              = local.packages.anonymization
      memory_mb            = var.lambda_memory_mb.anonymization
      timeout_seconds      = var.lambda_timeout_seconds.anonymization
      reserved_concurrency = null
      vpc                  = false
    }
    consolidation = {
      name                 = "${local.name}-consolidation"
      description          = "Merges both stage outputs and loads them into Aurora PostgreSQL in one transaction"
      handler              = "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ConsolidationFunction::HandleAsync"
      package              = local.packages.database
      memory_mb            = var.lambda_memory_mb.consolidation
      timeout_seconds      = var.lambda_timeout_seconds.consolidation
      reserved_concurrency = var.consolidation_reserved_concurrency
      vpc                  = true
    }
    # The Catch path of the workflow: records the run as failed and moves the source to quarantine/.
    record_failure = {
      name                 = "${local.name}-record-failure"
      description          = "Records a failed run in PostgreSQL and moves its source object to quarantine/"
      handler              = "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RecordFailureFunction::HandleAsync"
      package              = local.packages.database
      memory_mb            = var.lambda_memory_mb.record_failure
      timeout_seconds      = var.lambda_timeout_seconds.record_failure
      reserved_concurrency = null
      vpc                  = true
    }
    # The workflow's first task: ends a run whose source version already loaded. A small database
    # call, sized like RecordFailure.
    replay_check = {
      name                 = "${local.name}-replay-check"
      description          = "Ends a run whose source version already loaded, recording it as skipped"
      handler              = "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ReplayCheckFunction::HandleAsync"
      package              = local.packages.database
      memory_mb            = var.lambda_memory_mb.record_failure
      timeout_seconds      = var.lambda_timeout_seconds.record_failure
      reserved_concurrency = null
      vpc                  = true
    }
    # POST /uploads (api.tf): only signs, no network call.
    upload_url = {
      name                 = "${local.name}-upload-url"
      description          = "POST /uploads: a presigned S3 POST for a server-chosen key under incoming/"
      handler              = "DataProcess.UploadUrl::DataProcess.UploadUrl.UploadUrlFunction::HandleAsync"
      package              = local.packages.uploadurl
      memory_mb            = var.upload_url_memory_mb
      timeout_seconds      = 10
      reserved_concurrency = null
      vpc                  = false
    }
    # GET /runs (api.tf): a read per poll, next to the database.
    run_status = {
      name                 = "${local.name}-run-status"
      description          = "GET /runs?key=: the latest run of an uploaded key, from the run ledger"
      handler              = "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RunStatusFunction::HandleAsync"
      package              = local.packages.database
      memory_mb            = var.upload_url_memory_mb
      timeout_seconds      = 30
      reserved_concurrency = var.run_status_reserved_concurrency
      vpc                  = true
    }
    # Schema and database roles, as the master user: the only holder of the master secret. Run by
    # terraform apply (database.tf: aws_lambda_invocation.migrate), never by the workflow.
    migrate = {
      name                 = "${local.name}-migrate"
      description          = "Migrates the schema and the database roles as the master user; invoked by terraform apply"
      handler              = "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.MigrateFunction::HandleAsync"
      package              = local.packages.database
      memory_mb            = 512
      timeout_seconds      = 900
      reserved_concurrency = null
      vpc                  = true
    }
  }

  # The environment of each function (same keys as local.functions). Only identifiers: secrets are
  # read at run time from Secrets Manager through SSM Parameter Store's /aws/reference/secretsmanager/.
  function_environments = {
    enrichment = local.common_environment
    # The HMAC key secret's ARN, not its value.
    anonymization = merge(local.common_environment, {
      DATAPROCESS_HMAC_SECRET_ID = aws_secretsmanager_secret.hmac_key.arn
    })
    consolidation  = merge(local.common_environment, local.app_database_environment)
    record_failure = merge(local.common_environment, local.app_database_environment)
    # The HMAC key secret's ARN: the replay check compares the key's fingerprint, never the key.
    replay_check = merge(local.common_environment, local.app_database_environment, {
      DATAPROCESS_HMAC_SECRET_ID = aws_secretsmanager_secret.hmac_key.arn
    })
    upload_url = merge(local.common_environment, {
      DATAPROCESS_UPLOAD_BUCKET         = aws_s3_bucket.input.id
      DATAPROCESS_UPLOAD_PREFIX         = local.incoming_prefix
      DATAPROCESS_UPLOAD_MAX_BYTES      = tostring(var.upload_max_bytes)
      DATAPROCESS_UPLOAD_EXPIRY_SECONDS = tostring(var.upload_url_expiry_seconds)
      DATAPROCESS_UPLOAD_DATASETS       = join(",", local.datasets)
    })
    run_status = merge(local.common_environment, local.database_environment, {
      DATAPROCESS_DB_USER      = local.db_readonly_user
      DATAPROCESS_INPUT_BUCKET = aws_s3_bucket.input.id
    })
    # The master secret's ARN (its value is read at run time) and the application role's cap on
    # connections (reserved concurrency no longer caps them).
    migrate = merge(local.common_environment, local.database_environment, {
      DATAPROCESS_DB_SECRET_ID        = aws_rds_cluster.this.master_user_secret[0].secret_arn
      DATAPROCESS_DB_CONNECTION_LIMIT = tostring(var.db_app_connection_limit)
    })
  }
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name                  = each.value.name
  description                    = each.value.description
  publish                        = true
  role                           = aws_iam_role.function[each.key].arn
  runtime                        = local.lambda_runtime
  architectures                  = [local.lambda_architecture]
  handler                        = each.value.handler
  filename                       = "${path.module}/${each.value.package}"
  source_code_hash               = filebase64sha256("${path.module}/${each.value.package}")
  memory_size                    = each.value.memory_mb
  timeout                        = each.value.timeout_seconds
  reserved_concurrent_executions = each.value.reserved_concurrency
  kms_key_arn                    = aws_kms_key.this.arn

  # A destroy replaces a VPC function's security groups with the VPC's default one (emptied in
  # vpc.tf) before deleting it, so the functions' security group is not held by Lambda's ENIs for
  # the 20-40 minutes their cleanup takes.
  replace_security_groups_on_destroy = each.value.vpc

  dynamic "vpc_config" {
    for_each = each.value.vpc ? [true] : []

    content {
      subnet_ids         = aws_subnet.private[*].id
      security_group_ids = [aws_security_group.functions.id]
    }
  }

  environment {
    variables = local.function_environments[each.key]
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = var.log_level
    system_log_level      = "INFO" # the REPORT line (duration, memory) is an INFO system log
  }

  tracing_config {
    mode = "Active"
  }

  # depends_on is per resource, not per instance: every function waits for its role's policy and
  # for the endpoints (the VPC functions need them from their first invocation).
  depends_on = [
    aws_iam_role_policy.function,
    aws_vpc_endpoint.s3,
    aws_vpc_endpoint.ssm,
  ]
}

# Every deploy publishes a version; callers (the state machine, the HTTP API) invoke the alias,
# which Terraform moves to the new version. Rolling back is moving the alias to an earlier
# version (docs/infrastructure.md, "Roll back"). Aliases move after the schema migration.
resource "aws_lambda_alias" "live" {
  for_each = local.functions

  name             = local.function_alias
  description      = "The version of ${each.value.name} the pipeline invokes"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = aws_lambda_function.this[each.key].version

  # New code goes live only on the migrated schema.
  depends_on = [aws_lambda_invocation.migrate]
}

# Earlier versions of this stack had one block per function: keep their state.
moved {
  from = aws_lambda_function.enrichment
  to   = aws_lambda_function.this["enrichment"]
}

moved {
  from = aws_lambda_function.anonymization
  to   = aws_lambda_function.this["anonymization"]
}

moved {
  from = aws_lambda_function.consolidation
  to   = aws_lambda_function.this["consolidation"]
}

moved {
  from = aws_lambda_function.record_failure
  to   = aws_lambda_function.this["record_failure"]
}

moved {
  from = aws_lambda_function.replay_check
  to   = aws_lambda_function.this["replay_check"]
}

moved {
  from = aws_lambda_function.upload_url
  to   = aws_lambda_function.this["upload_url"]
}

moved {
  from = aws_lambda_function.run_status
  to   = aws_lambda_function.this["run_status"]
}

moved {
  from = aws_cloudwatch_log_group.upload_url
  to   = aws_cloudwatch_log_group.function["upload_url"]
}

moved {
  from = aws_cloudwatch_log_group.run_status
  to   = aws_cloudwatch_log_group.function["run_status"]
}

moved {
  from = aws_iam_role.upload_url
  to   = aws_iam_role.function["upload_url"]
}

moved {
  from = aws_iam_role.run_status
  to   = aws_iam_role.function["run_status"]
}

moved {
  from = aws_iam_role_policy.upload_url
  to   = aws_iam_role_policy.function["upload_url"]
}

moved {
  from = aws_iam_role_policy.run_status
  to   = aws_iam_role_policy.function["run_status"]
}
