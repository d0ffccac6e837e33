# The workflow. workflow.asl.json is rendered with templatefile(): every ${...} placeholder in it is
# bound by local.workflow_template_vars (locals.tf): the function ARNs, the profile and the staging
# location. Task states use plain Lambda ARNs, of the functions' aliases (the offline engine
# supports nothing else than plain ARNs).

resource "aws_cloudwatch_log_group" "state_machine" {
  # /aws/vendedlogs/ keeps the log group under CloudWatch Logs' resource policy size limit.
  name              = "/aws/vendedlogs/states/${local.name}-run"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_sfn_state_machine" "this" {
  name       = "${local.name}-run"
  type       = "STANDARD"
  role_arn   = aws_iam_role.state_machine.arn
  definition = templatefile("${path.module}/workflow.asl.json", local.workflow_template_vars)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true # payloads are S3 references and counts, never record data
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.state_machine]
}
