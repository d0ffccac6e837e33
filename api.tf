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
  upload_jwt = var.upload_api_authorization == "JWT"
}

################################################################################
# Function permissions (the function itself is aws_lambda_function.this["upload_url"], compute.tf)
################################################################################

# The UploadUrl function's role (security.tf: aws_iam_role.function["upload_url"]).
data "aws_iam_policy_document" "upload_url" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["upload_url"].json,
    data.aws_iam_policy_document.object_writer.json, # SSE-KMS: S3 asks KMS for a data key on the uploader's behalf
  ]

  # The presigned POST is signed with this role: it may create objects under incoming/ and
  # nothing else (no read, no delete, no other prefix or bucket).
  statement {
    sid       = "PutUploadsUnderIncoming"
    actions   = ["s3:PutObject"]
    resources = [local.incoming_objects_arn]
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
  integration_uri        = aws_lambda_alias.live["upload_url"].invoke_arn
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
  # /aws/vendedlogs/ keeps the log group under CloudWatch Logs' resource policy size limit (API
  # Gateway, like Step Functions, delivers through a resource policy on the log groups).
  name              = "/aws/vendedlogs/apigateway/${local.name}-uploads"
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
  function_name = aws_lambda_function.this["upload_url"].function_name
  qualifier     = aws_lambda_alias.live["upload_url"].name
  principal     = "apigateway.${local.dns_suffix}"
  source_arn    = "${aws_apigatewayv2_api.uploads.execution_arn}/*/POST/uploads"
}

################################################################################
# GET /runs: the run ledger for `dataprocess upload --wait`
################################################################################

# The RunStatus function's role: reads the ledger as dataprocess_readonly, writes nothing.
data "aws_iam_policy_document" "run_status" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["run_status"].json,
    data.aws_iam_policy_document.vpc_access.json,
    data.aws_iam_policy_document.database_connect["readonly"].json,
  ]
}

resource "aws_apigatewayv2_integration" "run_status" {
  api_id                 = aws_apigatewayv2_api.uploads.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_alias.live["run_status"].invoke_arn
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
  function_name = aws_lambda_function.this["run_status"].function_name
  qualifier     = aws_lambda_alias.live["run_status"].name
  principal     = "apigateway.${local.dns_suffix}"
  source_arn    = "${aws_apigatewayv2_api.uploads.execution_arn}/*/GET/runs"
}
