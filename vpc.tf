# Private network for the functions that reach the database (Consolidation and RecordFailure).
# No internet gateway and no NAT gateway: S3 is reached through a gateway endpoint (free) and the
# one other AWS API those functions call, SSM Parameter Store, through an interface endpoint.

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # required for the interface endpoint's private DNS name

  tags = {
    Name = local.name
  }

  lifecycle {
    precondition {
      condition     = length(local.candidate_azs) >= var.az_count
      error_message = "Only ${length(local.candidate_azs)} availability zones of the region qualify (no opt-in needed, not in excluded_zone_ids, served by the SSM interface endpoint): [${join(", ", local.candidate_azs)}]. Lower az_count or exclude fewer zones."
    }
  }
}

resource "aws_subnet" "private" {
  count = length(local.azs)

  vpc_id                  = aws_vpc.this.id
  availability_zone       = local.azs[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  map_public_ip_on_launch = false

  tags = {
    Name = "${local.name}-private-${local.azs[count.index]}"
    Tier = "private"
  }
}

# One route table without a default route: nothing leaves the VPC except through the endpoints.
resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-private"
  }
}

resource "aws_route_table_association" "private" {
  count = length(aws_subnet.private)

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# The VPC's default security group: strip its allow-all rules so nothing uses it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.name}-default-unused"
  }
}

# S3 gateway endpoint, limited to the pipeline's own buckets.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "${local.reverse_dns_prefix}.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  policy            = data.aws_iam_policy_document.s3_endpoint.json

  tags = {
    Name = "${local.name}-s3"
  }
}

data "aws_iam_policy_document" "s3_endpoint" {
  statement {
    sid = "PipelineBucketsOnly"

    # An endpoint policy applies to every principal in the VPC; the functions' IAM roles narrow
    # access further.
    principals {
      type        = "*"
      identifiers = ["*"]
    }

    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListBucket",
    ]

    resources = [
      aws_s3_bucket.input.arn,
      "${aws_s3_bucket.input.arn}/*",
      aws_s3_bucket.staging.arn,
      "${aws_s3_bucket.staging.arn}/*",
    ]
  }
}

# SSM interface endpoint. The functions read their secrets with
# ssm:GetParameter("/aws/reference/secretsmanager/<secret-id>"): Parameter Store fetches the secret
# from Secrets Manager itself, as a pass-through on the caller's behalf, so the VPC needs no
# Secrets Manager endpoint (the caller still needs secretsmanager:GetSecretValue, see security.tf).
# KMS is not called from the VPC either: S3 and Secrets Manager decrypt server-side.
resource "aws_vpc_endpoint" "ssm" {
  vpc_id              = aws_vpc.this.id
  service_name        = data.aws_vpc_endpoint_service.ssm.service_name
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  policy              = data.aws_iam_policy_document.ssm_endpoint.json

  tags = {
    Name = "${local.name}-ssm"
  }
}

data "aws_iam_policy_document" "ssm_endpoint" {
  statement {
    sid = "SecretReferencesOnly"

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    actions   = ["ssm:GetParameter"]
    resources = [local.ssm_secret_reference_arn]
  }
}

# VPC flow logs (rejected and accepted traffic) to an encrypted log group.
resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn

  tags = {
    Name = "${local.name}-flow-logs"
  }
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/aws/vpc/${local.name}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}
