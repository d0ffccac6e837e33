# Buckets. Input: uploads under incoming/ (the only prefix that starts a run) and quarantine/ for
# sources that failed. Staging: stage outputs under staging/<run-id>/ (expire) and the pipeline
# profile under profiles/ (kept). Both: public access blocked, bucket-owner-enforced ownership,
# SSE-KMS with the pipeline key, TLS-only bucket policy, incomplete multipart uploads aborted.

################################################################################
# Input bucket
################################################################################

resource "aws_s3_bucket" "input" {
  bucket        = local.input_bucket_name
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_public_access_block" "input" {
  bucket                  = aws_s3_bucket.input.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "input" {
  bucket = aws_s3_bucket.input.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "input" {
  bucket = aws_s3_bucket.input.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "input" {
  bucket = aws_s3_bucket.input.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "input" {
  bucket = aws_s3_bucket.input.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    # Every object. An empty filter {} is read back differently by the provider (a diff on
    # every plan); an empty prefix is the documented "whole bucket".
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    # Every object. An empty filter {} is read back differently by the provider (a diff on
    # every plan); an empty prefix is the documented "whole bucket".
    filter {
      prefix = ""
    }

    noncurrent_version_expiration {
      noncurrent_days = var.input_noncurrent_version_expiration_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.input]
}

resource "aws_s3_bucket_policy" "input" {
  bucket = aws_s3_bucket.input.id
  policy = data.aws_iam_policy_document.input_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.input]
}

data "aws_iam_policy_document" "input_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"] # a Deny: the wildcard only takes rights away (the no-wildcard rule is for Allow)

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    resources = [aws_s3_bucket.input.arn, "${aws_s3_bucket.input.arn}/*"]

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# Object-level events go to EventBridge; the rule in events.tf filters on incoming/.
resource "aws_s3_bucket_notification" "input" {
  bucket      = aws_s3_bucket.input.id
  eventbridge = true
}

################################################################################
# Staging bucket
################################################################################

resource "aws_s3_bucket" "staging" {
  bucket        = local.staging_bucket_name
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_public_access_block" "staging" {
  bucket                  = aws_s3_bucket.staging.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "staging" {
  bucket = aws_s3_bucket.staging.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "staging" {
  bucket = aws_s3_bucket.staging.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "staging" {
  bucket = aws_s3_bucket.staging.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    # Every object. An empty filter {} is read back differently by the provider (a diff on
    # every plan); an empty prefix is the documented "whole bucket".
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-stage-outputs"
    status = "Enabled"

    filter {
      prefix = "${local.staging_prefix}/"
    }

    expiration {
      days = var.staging_expiration_days
    }
  }
}

resource "aws_s3_bucket_policy" "staging" {
  bucket = aws_s3_bucket.staging.id
  policy = data.aws_iam_policy_document.staging_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.staging]
}

data "aws_iam_policy_document" "staging_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"] # a Deny: the wildcard only takes rights away (the no-wildcard rule is for Allow)

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    resources = [aws_s3_bucket.staging.arn, "${aws_s3_bucket.staging.arn}/*"]

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
