# S3 "Object Created" under incoming/ in the input bucket → EventBridge → one workflow execution per
# object, with retries and a dead-letter queue; alarms on failed, timed-out and aborted executions
# and on dead letters.

resource "aws_cloudwatch_event_rule" "object_created" {
  name        = local.object_created_rule_name
  description = "New objects under ${local.incoming_prefix} in ${local.input_bucket_name} start a run"

  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = {
        name = [aws_s3_bucket.input.id]
      }
      object = {
        key = [{ prefix = local.incoming_prefix }]
      }
    }
  })
}

resource "aws_cloudwatch_event_target" "start_run" {
  rule      = aws_cloudwatch_event_rule.object_created.name
  target_id = "start-run"
  arn       = aws_sfn_state_machine.this.arn
  role_arn  = aws_iam_role.events.arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 20
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

# Events EventBridge could not deliver (e.g. StartExecution throttled for an hour).
resource "aws_sqs_queue" "events_dlq" {
  name                              = "${local.name}-events-dlq"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 3600
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy    = data.aws_iam_policy_document.events_dlq.json
}

data "aws_iam_policy_document" "events_dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.${local.dns_suffix}"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.object_created.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"] # a Deny: the wildcard only takes rights away
    resources = [aws_sqs_queue.events_dlq.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# Each way an execution ends badly. A failed run is recorded as failed and quarantined; a run that
# timed out or was stopped left no ledger row and its source under incoming/.
locals {
  run_alarms = {
    failed = {
      metric      = "ExecutionsFailed"
      description = "A DataProcess run failed: it is recorded as failed in the runs table and its source is under ${local.quarantine_prefix}."
    }
    timed_out = {
      metric      = "ExecutionsTimedOut"
      description = "A DataProcess run hit the workflow's TimeoutSeconds (a day): it left no ledger row and its source is still under ${local.incoming_prefix}."
    }
    aborted = {
      metric      = "ExecutionsAborted"
      description = "A DataProcess run was stopped (StopExecution): it left no ledger row and its source is still under ${local.incoming_prefix}."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "runs" {
  for_each = local.run_alarms

  alarm_name          = "${local.name}-runs-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = "AWS/States"
  metric_name         = each.value.metric
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

moved {
  from = aws_cloudwatch_metric_alarm.runs_failed
  to   = aws_cloudwatch_metric_alarm.runs["failed"]
}

moved {
  from = aws_cloudwatch_metric_alarm.runs_timed_out
  to   = aws_cloudwatch_metric_alarm.runs["timed_out"]
}

resource "aws_cloudwatch_metric_alarm" "events_dead_lettered" {
  alarm_name          = "${local.name}-events-dead-lettered"
  alarm_description   = "An upload event could not start a run and is in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.events_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
