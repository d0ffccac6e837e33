# Encryption key, security groups and IAM: one role per function, one for Step Functions, one for
# EventBridge and one for VPC flow logs, each with only the actions and resources it needs.
# No IAM action contains a wildcard. A "*" resource appears only where the action supports no
# resource-level permission (commented at each use) or inside a KMS key policy, where "*" means
# "this key".

################################################################################
# KMS
################################################################################

resource "aws_kms_key" "this" {
  description             = "${local.name}: buckets, logs, secrets, queue, Lambda environment and database"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  # The account administers and uses the key through IAM policies (the usual "enable IAM policies"
  # statement, with the actions spelled out instead of kms:*).
  statement {
    sid = "AccountAdministersThroughIam"

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }

    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]

    resources = ["*"] # in a key policy, "*" is this key
  }

  # CloudWatch Logs encrypts the pipeline's log groups (functions, state machine, flow logs, database).
  statement {
    sid = "CloudWatchLogsEncryptsThisAccountsLogGroups"

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.${local.dns_suffix}"]
    }

    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:DescribeKey",
    ]

    resources = ["*"] # in a key policy, "*" is this key

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # EventBridge writes undeliverable events to the encrypted dead-letter queue.
  statement {
    sid = "EventBridgeWritesTheDeadLetterQueue"

    principals {
      type        = "Service"
      identifiers = ["events.${local.dns_suffix}"]
    }

    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]

    resources = ["*"] # in a key policy, "*" is this key

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.object_created_rule_arn]
    }
  }
}

################################################################################
# Security groups
################################################################################

resource "aws_security_group" "functions" {
  name        = "${local.name}-functions"
  description = "The functions in the VPC: out to the database, the SSM endpoint and S3 only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-functions"
  }
}

resource "aws_security_group" "database" {
  name        = "${local.name}-database"
  description = "Aurora PostgreSQL: in from the functions on 5432 only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-database"
  }
}

resource "aws_security_group" "endpoints" {
  name        = "${local.name}-endpoints"
  description = "Interface endpoints: in from the functions on 443 only"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.name}-endpoints"
  }
}

resource "aws_vpc_security_group_egress_rule" "functions_to_database" {
  security_group_id            = aws_security_group.functions.id
  description                  = "PostgreSQL"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_endpoints" {
  security_group_id            = aws_security_group.functions.id
  description                  = "HTTPS to the interface endpoints (SSM)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "functions_to_s3" {
  security_group_id = aws_security_group.functions.id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_functions" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the functions"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.functions.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_functions" {
  security_group_id            = aws_security_group.endpoints.id
  description                  = "HTTPS from the functions"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.functions.id
}

################################################################################
# Trust policies
################################################################################

# Who may assume each role: one AWS service, and only on behalf of this account.
data "aws_iam_policy_document" "assume" {
  for_each = toset(["lambda", "states", "events", "vpc-flow-logs"])

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["${each.key}.${local.dns_suffix}"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

################################################################################
# Lambda execution roles
################################################################################

resource "aws_iam_role" "function" {
  for_each = local.functions

  name               = each.value.name
  description        = "Execution role of ${each.value.name}"
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name   = "${each.value.name}-permissions"
  role   = aws_iam_role.function[each.key].id
  policy = local.function_policies[each.key]
}

locals {
  function_policies = {
    enrichment     = data.aws_iam_policy_document.enrichment.json
    anonymization  = data.aws_iam_policy_document.anonymization.json
    consolidation  = data.aws_iam_policy_document.consolidation.json
    record_failure = data.aws_iam_policy_document.record_failure.json
    replay_check   = data.aws_iam_policy_document.replay_check.json
    upload_url     = data.aws_iam_policy_document.upload_url.json
    run_status     = data.aws_iam_policy_document.run_status.json
    migrate        = data.aws_iam_policy_document.migrate.json
  }
}

# What every function needs: its own log group, X-Ray, and kms:Decrypt on the pipeline key (the
# Lambda environment, SSE-KMS objects it reads, secrets). Only the functions that write objects
# add kms:GenerateDataKey (data.aws_iam_policy_document.object_writer).
data "aws_iam_policy_document" "function_common" {
  for_each = local.functions

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  statement {
    sid       = "XRayTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray trace APIs support no resource-level permissions
  }

  statement {
    sid       = "PipelineKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

# Elastic network interfaces of the functions in the VPC.
data "aws_iam_policy_document" "vpc_access" {
  statement {
    sid     = "CreateInterfacesInThePipelineSubnets"
    actions = ["ec2:CreateNetworkInterface"]
    resources = concat(
      aws_subnet.private[*].arn,
      [
        aws_security_group.functions.arn,
        "arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*",
      ],
    )
  }

  statement {
    sid = "ManageOwnInterfaces"
    actions = [
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"]
  }

  statement {
    sid       = "DescribeNetwork"
    actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    resources = ["*"] # EC2 Describe* actions support no resource-level permissions
  }
}

# Reading the profile. S3 answers a missing key with 403, not 404, unless the caller may list the
# bucket: a function that must tell "missing" from "forbidden" may list, but only under the prefix
# it reads. The profile readers report a missing profile as such (the failure path then still
# records the run).
data "aws_iam_policy_document" "read_profile" {
  statement {
    sid       = "ReadProfile"
    actions   = ["s3:GetObject"]
    resources = [local.profile_objects_arn]
  }

  statement {
    sid       = "ListProfilesToTellMissingFromForbidden"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.staging.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.profile_prefix}*"]
    }
  }
}

# Writing SSE-KMS objects needs a data key from the pipeline key (reading needs kms:Decrypt only).
data "aws_iam_policy_document" "object_writer" {
  statement {
    sid       = "PipelineDataKeys"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

# The functions that connect as dataprocess_app: the network and that one database user.
data "aws_iam_policy_document" "app_database" {
  source_policy_documents = [
    data.aws_iam_policy_document.vpc_access.json,
    data.aws_iam_policy_document.database_connect["app"].json,
  ]
}

# IAM database authentication: rds-db:connect as exactly one database user of this cluster (its
# resource id, not its name, is in the ARN). The token is signed locally: no endpoint is called.
data "aws_iam_policy_document" "database_connect" {
  for_each = local.database_users

  statement {
    sid       = "ConnectAsOneDatabaseUser"
    actions   = ["rds-db:connect"]
    resources = ["arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${aws_rds_cluster.this.cluster_resource_id}/${each.value}"]
  }
}

# The database's managed master secret, through the SSM reference path: the migrate function's
# only. Parameter Store honours the caller's Secrets Manager permissions, so both are needed; the
# secretsmanager statement is the one that pins the secret.
data "aws_iam_policy_document" "database_secret" {
  statement {
    sid       = "SecretReference"
    actions   = ["ssm:GetParameter"]
    resources = [local.ssm_secret_reference_arn]
  }

  statement {
    sid       = "DatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_rds_cluster.this.master_user_secret[0].secret_arn]
  }
}

data "aws_iam_policy_document" "enrichment" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["enrichment"].json,
    data.aws_iam_policy_document.read_profile.json,
    data.aws_iam_policy_document.object_writer.json,
  ]

  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetObject"]
    resources = [local.incoming_objects_arn]
  }

  statement {
    sid       = "WriteStageOutput"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [local.staging_objects_arn]
  }
}

data "aws_iam_policy_document" "anonymization" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["anonymization"].json,
    data.aws_iam_policy_document.read_profile.json,
    data.aws_iam_policy_document.object_writer.json,
    data.aws_iam_policy_document.hmac_key.json,
  ]

  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetObject"]
    resources = [local.incoming_objects_arn]
  }

  statement {
    sid       = "WriteStageOutput"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [local.staging_objects_arn]
  }
}

# The HMAC key, through the SSM reference path (see database_secret for why both are needed):
# Anonymization makes pseudonyms with it, the replay check only its fingerprint (a run's identity).
data "aws_iam_policy_document" "hmac_key" {
  statement {
    sid       = "HmacKeyReference"
    actions   = ["ssm:GetParameter"]
    resources = [local.ssm_secret_reference_arn]
  }

  statement {
    sid       = "HmacKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.hmac_key.arn]
  }
}

data "aws_iam_policy_document" "consolidation" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["consolidation"].json,
    data.aws_iam_policy_document.read_profile.json,
    data.aws_iam_policy_document.app_database.json,
  ]

  statement {
    sid       = "ReadStageOutputs"
    actions   = ["s3:GetObject"]
    resources = [local.staging_objects_arn]
  }
}

data "aws_iam_policy_document" "record_failure" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["record_failure"].json,
    data.aws_iam_policy_document.read_profile.json,
    data.aws_iam_policy_document.app_database.json,
    data.aws_iam_policy_document.object_writer.json,
  ]

  # Quarantine = copy incoming/<key> to quarantine/<key>, then delete the original.
  statement {
    sid       = "MoveSourceOutOfIncoming"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = [local.incoming_objects_arn]
  }

  # A retried failure path finds the source already moved: S3 must answer 404, not 403.
  statement {
    sid       = "ListIncomingToTellMovedFromForbidden"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.input.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.incoming_prefix}*"]
    }
  }

  statement {
    sid       = "WriteQuarantine"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [local.quarantine_objects_arn]
  }
}

# The schema migration: the master secret and the network, nothing in S3.
data "aws_iam_policy_document" "migrate" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["migrate"].json,
    data.aws_iam_policy_document.vpc_access.json,
    data.aws_iam_policy_document.database_secret.json,
  ]
}

# The replay check reads the profile (for the dataset and its hash), the HMAC key (for its
# fingerprint) and the run ledger; it writes only a skipped ledger row.
data "aws_iam_policy_document" "replay_check" {
  source_policy_documents = [
    data.aws_iam_policy_document.function_common["replay_check"].json,
    data.aws_iam_policy_document.read_profile.json,
    data.aws_iam_policy_document.app_database.json,
    data.aws_iam_policy_document.hmac_key.json,
  ]
}

################################################################################
# Step Functions role
################################################################################

resource "aws_iam_role" "state_machine" {
  name               = "${local.name}-state-machine"
  description        = "Runs the ${local.name} workflow"
  assume_role_policy = data.aws_iam_policy_document.assume["states"].json
}

data "aws_iam_policy_document" "state_machine" {
  # Through their aliases: the qualified ARNs the workflow names.
  statement {
    sid     = "InvokePipelineFunctions"
    actions = ["lambda:InvokeFunction"]
    resources = [
      aws_lambda_alias.live["enrichment"].arn,
      aws_lambda_alias.live["anonymization"].arn,
      aws_lambda_alias.live["consolidation"].arn,
      aws_lambda_alias.live["record_failure"].arn,
      aws_lambda_alias.live["replay_check"].arn,
    ]
  }

  statement {
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"] # CloudWatch Logs vended-log delivery APIs support no resource-level permissions
  }

  statement {
    sid = "XRayTraces"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"] # X-Ray trace APIs support no resource-level permissions
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "${local.name}-state-machine-permissions"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

################################################################################
# EventBridge role
################################################################################

resource "aws_iam_role" "events" {
  name               = "${local.name}-events"
  description        = "Starts ${local.name} workflow executions for new input objects"
  assume_role_policy = data.aws_iam_policy_document.assume["events"].json
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "StartWorkflow"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "${local.name}-events-permissions"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}

################################################################################
# VPC flow logs role
################################################################################

resource "aws_iam_role" "flow_logs" {
  name               = "${local.name}-flow-logs"
  description        = "Delivers VPC flow logs of ${local.name}"
  assume_role_policy = data.aws_iam_policy_document.assume["vpc-flow-logs"].json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    sid = "WriteFlowLogGroup"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:*",
    ]
  }

  # DescribeLogGroups is a list call: it is authorised on the account's log groups, not on the one
  # the service then writes to (scoped to one group, it is denied).
  statement {
    sid       = "FindFlowLogGroup"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "${local.name}-flow-logs-permissions"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}
