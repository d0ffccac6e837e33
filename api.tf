# The upload API. POST /uploads on an HTTP API → the UploadUrl function, which answers with a
# presigned S3 POST for a key it chooses under incoming/ (incoming/<yyyy>/<mm>/<dd>/<uuid>/<name>).
# The signed POST policy pins the key, the content type and content-length-range, and expires:
# S3 enforces every limit, the handler only refuses early. The route is authorised with AWS_IAM
# (SigV4, what `dataprocess upload` sends) or, with upload_api_authorization = "JWT", by a JWT
# authorizer. The stage throttles and writes access logs to a KMS-encrypted log group. The
# function runs outside the VPC: it only signs (no network call); the upload itself is made with
# its role's credentials, which may only put objects under incoming/ of the input bucket.
#
# GET /runs?key=KEY reports the latest run of an uploaded key from the run ledger (what
# `dataprocess upload --wait` follows): the RunStatus function, from the same package, runs in
# the private subnets next to the database, with the same authorisation as the upload route.

locals {
  upload_url_function = {
    name    = "${local.name}-upload-url"
    handler = "DataProcess.UploadUrl::DataProcess.UploadUrl.UploadUrlFunction::HandleAsync"
  }

  run_status_function = {
    name    = "${local.name}-run-status"
    handler = "DataProcess.UploadUrl::DataProcess.UploadUrl.RunStatusFunction::HandleAsync"
  }

  upload_jwt = var.upload_api_authorization == "JWT"
}

################################################################################
# Function
################################################################################

resource "aws_cloudwatch_log_group" "upload_url" {
  name              = "/aws/lambda/${local.upload_url_function.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_lambda_function" "upload_url" {
  function_name    = local.upload_url_function.name
  description      = "POST /uploads: a presigned S3 POST for a server-chosen key under incoming/"
  role             = aws_iam_role.upload_url.arn
  runtime          = local.lambda_runtime
  architectures    = [local.lambda_architecture]
  handler          = local.upload_url_function.handler
  filename         = "${path.module}/${local.packages.uploadurl}"
  source_code_hash = filebase64sha256("${path.module}/${local.packages.uploadurl}")
  memory_size      = var.upload_url_memory_mb
  timeout          = 10
  kms_key_arn      = aws_kms_key.this.arn

  environment {
    variables = merge(local.common_environment, {
      DATAPROCESS_UPLOAD_BUCKET         = aws_s3_bucket.input.id
      DATAPROCESS_UPLOAD_PREFIX         = local.incoming_prefix
      DATAPROCESS_UPLOAD_MAX_BYTES      = tostring(var.upload_max_bytes)
      DATAPROCESS_UPLOAD_EXPIRY_SECONDS = tostring(var.upload_url_expiry_seconds)
    })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.upload_url.name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.upload_url]
}

resource "aws_iam_role" "upload_url" {
  name               = local.upload_url_function.name
  description        = "Execution role of ${local.upload_url_function.name}; presigned uploads act with it"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
}

resource "aws_iam_role_policy" "upload_url" {
  name   = "${local.upload_url_function.name}-permissions"
  role   = aws_iam_role.upload_url.id
  policy = data.aws_iam_policy_document.upload_url.json
}

data "aws_iam_policy_document" "upload_url" {
  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.upload_url.arn}:*"]
  }

  statement {
    sid       = "XRayTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray trace APIs support no resource-level permissions
  }

  # The presigned POST is signed with this role: it may create objects under incoming/ and
  # nothing else (no read, no delete, no other prefix or bucket).
  statement {
    sid       = "PutUploadsUnderIncoming"
    actions   = ["s3:PutObject"]
    resources = [local.incoming_objects_arn]
  }

  # SSE-KMS: S3 asks KMS for a data key on the uploader's behalf; the Lambda environment is
  # encrypted with the same key.
  statement {
    sid       = "PipelineKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

################################################################################
# HTTP API
################################################################################

resource "aws_apigatewayv2_api" "uploads" {
  name          = "${local.name}-uploads"
  description   = "Upload API of ${local.name}: POST /uploads returns a presigned S3 POST"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count = local.upload_jwt ? 1 : 0

  api_id           = aws_apigatewayv2_api.uploads.id
  name             = "${local.name}-uploads-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.upload_jwt_issuer
    audience = var.upload_jwt_audience
  }

  lifecycle {
    precondition {
      condition     = var.upload_jwt_issuer != null && length(var.upload_jwt_audience) > 0
      error_message = "upload_api_authorization = \"JWT\" needs upload_jwt_issuer and upload_jwt_audience."
    }
  }
}

resource "aws_apigatewayv2_integration" "upload_url" {
  api_id                 = aws_apigatewayv2_api.uploads.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.upload_url.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 10000
}

resource "aws_apigatewayv2_route" "create_upload" {
  api_id             = aws_apigatewayv2_api.uploads.id
  route_key          = "POST /uploads"
  target             = "integrations/${aws_apigatewayv2_integration.upload_url.id}"
  authorization_type = var.upload_api_authorization
  authorizer_id      = local.upload_jwt ? aws_apigatewayv2_authorizer.jwt[0].id : null
}

resource "aws_cloudwatch_log_group" "upload_api_access" {
  name              = "/aws/apigateway/${local.name}-uploads"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_apigatewayv2_stage" "uploads" {
  api_id      = aws_apigatewayv2_api.uploads.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.upload_api_throttling_rate_limit
    throttling_burst_limit   = var.upload_api_throttling_burst_limit
    detailed_metrics_enabled = true
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.upload_api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      sourceIp           = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      authorizerError    = "$context.authorizer.error"
    })
  }
}

resource "aws_lambda_permission" "upload_api" {
  statement_id  = "AllowUploadApiPostUploads"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.upload_url.function_name
  principal     = "apigateway.${local.dns_suffix}"
  source_arn    = "${aws_apigatewayv2_api.uploads.execution_arn}/*/POST/uploads"
}

################################################################################
# GET /runs: the run ledger for `dataprocess upload --wait`
################################################################################

resource "aws_cloudwatch_log_group" "run_status" {
  name              = "/aws/lambda/${local.run_status_function.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_lambda_function" "run_status" {
  function_name    = local.run_status_function.name
  description      = "GET /runs?key=: the latest run of an uploaded key, from the run ledger"
  role             = aws_iam_role.run_status.arn
  runtime          = local.lambda_runtime
  architectures    = [local.lambda_architecture]
  handler          = local.run_status_function.handler
  filename         = "${path.module}/${local.packages.uploadurl}"
  source_code_hash = filebase64sha256("${path.module}/${local.packages.uploadurl}")
  memory_size      = var.upload_url_memory_mb
  timeout          = 30
  kms_key_arn      = aws_kms_key.this.arn

  # A read per poll: a few concurrent instances are plenty, and each holds a database connection.
  reserved_concurrent_executions = 2

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }

  environment {
    variables = merge(local.common_environment, local.database_environment, {
      DATAPROCESS_INPUT_BUCKET = aws_s3_bucket.input.id
    })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.run_status.name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.run_status]
}

resource "aws_iam_role" "run_status" {
  name               = local.run_status_function.name
  description        = "Execution role of ${local.run_status_function.name}"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
}

resource "aws_iam_role_policy" "run_status" {
  name   = "${local.run_status_function.name}-permissions"
  role   = aws_iam_role.run_status.id
  policy = data.aws_iam_policy_document.run_status.json
}

data "aws_iam_policy_document" "run_status" {
  source_policy_documents = [
    data.aws_iam_policy_document.vpc_access.json,
    data.aws_iam_policy_document.database_secret.json,
  ]

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.run_status.arn}:*"]
  }

  statement {
    sid       = "XRayTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray trace APIs support no resource-level permissions
  }

  # The database secret and the Lambda environment are encrypted with the pipeline key.
  statement {
    sid       = "PipelineKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_apigatewayv2_integration" "run_status" {
  api_id                 = aws_apigatewayv2_api.uploads.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.run_status.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_route" "run_status" {
  api_id             = aws_apigatewayv2_api.uploads.id
  route_key          = "GET /runs"
  target             = "integrations/${aws_apigatewayv2_integration.run_status.id}"
  authorization_type = var.upload_api_authorization
  authorizer_id      = local.upload_jwt ? aws_apigatewayv2_authorizer.jwt[0].id : null
}

resource "aws_lambda_permission" "run_status_api" {
  statement_id  = "AllowUploadApiGetRuns"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.run_status.function_name
  principal     = "apigateway.${local.dns_suffix}"
  source_arn    = "${aws_apigatewayv2_api.uploads.execution_arn}/*/GET/runs"
}
