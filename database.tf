# Aurora PostgreSQL Serverless v2: scales to 0 ACU and pauses when idle (no compute charge), resumes
# on the first connection (the Consolidation function retries DataProcess.DatabaseUnavailableException
# with backoff while it resumes, see workflow.asl.json). Private subnets only, encrypted with the
# pipeline key, TLS forced, master password generated and kept by RDS in Secrets Manager, IAM
# database authentication on, backups and deletion protection on.

resource "aws_db_subnet_group" "this" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = aws_subnet.private[*].id
}

resource "aws_rds_cluster_parameter_group" "this" {
  name_prefix = "${local.name}-aurora-postgresql${local.db_major_version}-"
  family      = "aurora-postgresql${local.db_major_version}"
  description = "${local.name}: TLS only"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "5000" # log statements slower than 5 s (never their parameters: log_statement stays none)
  }

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  db_major_version = split(".", var.db_engine_version)[0]
}

resource "aws_rds_cluster" "this" {
  cluster_identifier                  = local.name
  engine                              = "aurora-postgresql"
  engine_mode                         = "provisioned"
  engine_version                      = var.db_engine_version
  database_name                       = var.db_name
  master_username                     = var.db_master_username
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.this.arn
  iam_database_authentication_enabled = true
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.this.arn
  db_subnet_group_name                = aws_db_subnet_group.this.name
  vpc_security_group_ids              = [aws_security_group.database.id]
  db_cluster_parameter_group_name     = aws_rds_cluster_parameter_group.this.name
  backup_retention_period             = var.db_backup_retention_days
  preferred_backup_window             = "02:00-03:00"
  preferred_maintenance_window        = "sun:04:00-sun:05:00"
  copy_tags_to_snapshot               = true
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${local.name}-final"
  enabled_cloudwatch_logs_exports     = ["postgresql"]

  serverlessv2_scaling_configuration {
    min_capacity             = var.db_min_capacity
    max_capacity             = var.db_max_capacity
    seconds_until_auto_pause = var.db_min_capacity == 0 ? var.db_seconds_until_auto_pause : null
  }

  # Engine version policy: var.db_engine_version is the version the cluster is created with; minor
  # upgrades are AWS's (auto_minor_version_upgrade on the instance, in the maintenance window).
  # Without ignore_changes, the first plan after such an upgrade would try to go back to the
  # pinned version, and RDS refuses a downgrade. A deliberate upgrade is an RDS operation
  # (docs/infrastructure.md, "Engine version").
  lifecycle {
    ignore_changes = [engine_version]
  }

  depends_on = [aws_cloudwatch_log_group.database]
}

resource "aws_rds_cluster_instance" "this" {
  count = 1

  identifier                 = "${local.name}-${count.index + 1}"
  cluster_identifier         = aws_rds_cluster.this.id
  engine                     = aws_rds_cluster.this.engine
  engine_version             = aws_rds_cluster.this.engine_version
  instance_class             = "db.serverless"
  db_subnet_group_name       = aws_db_subnet_group.this.name
  publicly_accessible        = false
  auto_minor_version_upgrade = true

  # See the cluster: the instance follows AWS's minor upgrades, Terraform does not undo them.
  lifecycle {
    ignore_changes = [engine_version]
  }
}

# The exported PostgreSQL log, created here so it has retention and the pipeline key.
resource "aws_cloudwatch_log_group" "database" {
  name              = "/aws/rds/cluster/${local.name}/postgresql"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

# The schema and the database roles, migrated by the migrate function (the only holder of the
# master secret) on every apply where its code or settings change: a new version of the code, a new
# connection limit, another cluster. A failed migration fails the apply, before any alias moves
# (compute.tf). Its result is a small JSON document (schema version, applied migrations): no secret.
resource "aws_lambda_invocation" "migrate" {
  function_name = aws_lambda_function.this["migrate"].function_name
  qualifier     = aws_lambda_function.this["migrate"].version
  input         = jsonencode({ requestedBy = "terraform" })

  triggers = {
    code     = aws_lambda_function.this["migrate"].source_code_hash
    settings = sha256(jsonencode(local.function_environments.migrate))
  }

  # The writer instance must exist to connect; the cluster alone is not enough.
  depends_on = [aws_rds_cluster_instance.this]
}
