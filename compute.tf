# The pipeline's Lambda functions. Managed dotnet10 runtime on arm64 (Graviton), Stream handlers
# (`Assembly::Namespace.Type::Method`), deterministic zips from scripts/package.sh (`make package`),
# JSON logs to a KMS-encrypted log group with retention, X-Ray active tracing, environment
# encrypted with the pipeline key. Enrichment and Anonymization run outside the VPC (they only call
# S3 and SSM); Consolidation and RecordFailure run in the private subnets next to the database.

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_lambda_function" "enrichment" {
  function_name    = local.functions.enrichment.name
  description      = "Streams the source object and writes the enrichment fields as NDJSON to staging"
  role             = aws_iam_role.function["enrichment"].arn
  runtime          = local.lambda_runtime
  architectures    = [local.lambda_architecture]
  handler          = local.functions.enrichment.handler
  filename         = "${path.module}/${local.packages.enrichment}"
  source_code_hash = filebase64sha256("${path.module}/${local.packages.enrichment}")
  memory_size      = var.lambda_memory_mb.enrichment
  timeout          = var.lambda_timeout_seconds.enrichment
  kms_key_arn      = aws_kms_key.this.arn

  environment {
    variables = local.common_environment
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function["enrichment"].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.function["enrichment"]]
}

resource "aws_lambda_function" "anonymization" {
  function_name    = local.functions.anonymization.name
  description      = "Streams the source object and writes the pseudonymised records as NDJSON to staging"
  role             = aws_iam_role.function["anonymization"].arn
  runtime          = local.lambda_runtime
  architectures    = [local.lambda_architecture]
  handler          = local.functions.anonymization.handler
  filename         = "${path.module}/${local.packages.anonymization}"
  source_code_hash = filebase64sha256("${path.module}/${local.packages.anonymization}")
  memory_size      = var.lambda_memory_mb.anonymization
  timeout          = var.lambda_timeout_seconds.anonymization
  kms_key_arn      = aws_kms_key.this.arn

  environment {
    # The secret's ARN, not its value: read at run time through SSM's Secrets Manager reference.
    variables = merge(local.common_environment, {
      DATAPROCESS_HMAC_SECRET_ID = aws_secretsmanager_secret.hmac_key.arn
    })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function["anonymization"].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.function["anonymization"]]
}

resource "aws_lambda_function" "consolidation" {
  function_name                  = local.functions.consolidation.name
  description                    = "Merges both stage outputs and loads them into Aurora PostgreSQL in one transaction"
  role                           = aws_iam_role.function["consolidation"].arn
  runtime                        = local.lambda_runtime
  architectures                  = [local.lambda_architecture]
  handler                        = local.functions.consolidation.handler
  filename                       = "${path.module}/${local.packages.consolidation}"
  source_code_hash               = filebase64sha256("${path.module}/${local.packages.consolidation}")
  memory_size                    = var.lambda_memory_mb.consolidation
  timeout                        = var.lambda_timeout_seconds.consolidation
  reserved_concurrent_executions = var.consolidation_reserved_concurrency # caps database connections
  kms_key_arn                    = aws_kms_key.this.arn

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }

  environment {
    variables = merge(local.common_environment, local.database_environment)
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function["consolidation"].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_iam_role_policy.function["consolidation"],
    aws_vpc_endpoint.s3,
    aws_vpc_endpoint.ssm,
  ]
}

# The Catch path of the workflow: records the run as failed and moves the source to quarantine/.
resource "aws_lambda_function" "record_failure" {
  function_name    = local.functions.record_failure.name
  description      = "Records a failed run in PostgreSQL and moves its source object to quarantine/"
  role             = aws_iam_role.function["record_failure"].arn
  runtime          = local.lambda_runtime
  architectures    = [local.lambda_architecture]
  handler          = local.functions.record_failure.handler
  filename         = "${path.module}/${local.packages.consolidation}"
  source_code_hash = filebase64sha256("${path.module}/${local.packages.consolidation}")
  memory_size      = var.lambda_memory_mb.record_failure
  timeout          = var.lambda_timeout_seconds.record_failure
  kms_key_arn      = aws_kms_key.this.arn

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }

  environment {
    variables = merge(local.common_environment, local.database_environment)
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function["record_failure"].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_iam_role_policy.function["record_failure"],
    aws_vpc_endpoint.s3,
    aws_vpc_endpoint.ssm,
  ]
}

# The workflow's first task: ends a run whose source version already loaded. A small database call,
# sized like RecordFailure.
resource "aws_lambda_function" "replay_check" {
  function_name    = local.functions.replay_check.name
  description      = "Ends a run whose source version already loaded, recording it as skipped"
  role             = aws_iam_role.function["replay_check"].arn
  runtime          = local.lambda_runtime
  architectures    = [local.lambda_architecture]
  handler          = local.functions.replay_check.handler
  filename         = "${path.module}/${local.packages.consolidation}"
  source_code_hash = filebase64sha256("${path.module}/${local.packages.consolidation}")
  memory_size      = var.lambda_memory_mb.record_failure
  timeout          = var.lambda_timeout_seconds.record_failure
  kms_key_arn      = aws_kms_key.this.arn

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }

  environment {
    # The HMAC key's ARN: the check reads the key only for its fingerprint, part of a run's identity.
    variables = merge(local.common_environment, local.database_environment, {
      DATAPROCESS_HMAC_SECRET_ID = aws_secretsmanager_secret.hmac_key.arn
    })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function["replay_check"].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_iam_role_policy.function["replay_check"],
    aws_vpc_endpoint.s3,
    aws_vpc_endpoint.ssm,
  ]
}
