# The HMAC key of the `hash` pseudonymisation method. Terraform generates it with an ephemeral
# random_password and writes it through the write-only secret_string_wo argument: the value is in
# neither the plan nor the state. Increase var.hmac_key_version to write a new key.
# The Anonymization function reads it at run time via SSM
# (/aws/reference/secretsmanager/<secret ARN>), see compute.tf and security.tf.
# The database credentials are the cluster's RDS-managed master secret (database.tf).

ephemeral "random_password" "hmac_key" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "hmac_key" {
  name                    = "${local.name}/hmac-key"
  description             = "HMAC-SHA256 key of the DataProcess pseudonyms (hash method)"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "hmac_key" {
  secret_id                = aws_secretsmanager_secret.hmac_key.id
  secret_string_wo         = ephemeral.random_password.hmac_key.result
  secret_string_wo_version = var.hmac_key_version
}
