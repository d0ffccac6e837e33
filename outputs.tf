# Identifiers only: no secret value is ever an output (the secrets' ARNs are not secret).

output "input_bucket_name" {
  description = "Bucket that receives uploads. Objects created under incoming_prefix start a run."
  value       = aws_s3_bucket.input.id
}

output "incoming_prefix" {
  description = "Key prefix that starts a run (uploads go to incoming/<date>/<uuid>/<name>)."
  value       = local.incoming_prefix
}

output "quarantine_prefix" {
  description = "Key prefix in the input bucket where the sources of failed runs are moved."
  value       = local.quarantine_prefix
}

output "staging_bucket_name" {
  description = "Bucket holding stage outputs (staging/<run-id>/, expiring) and the dataset profiles (profiles/)."
  value       = aws_s3_bucket.staging.id
}

output "profiles_s3_prefix" {
  description = "Where the dataset profiles are stored (profiles/<dataset>.json); a run reads the one its key's dataset names."
  value       = "s3://${aws_s3_bucket.staging.id}/${local.profile_prefix}"
}

output "datasets" {
  description = "The datasets this stack accepts uploads for (the files of profiles_dir)."
  value       = local.datasets
}

output "state_machine_arn" {
  description = "ARN of the run workflow (list executions to follow runs)."
  value       = aws_sfn_state_machine.this.arn
}

output "function_names" {
  description = "Lambda function names by role in the pipeline."
  value       = { for key, function in aws_lambda_function.this : key => function.function_name }
}

output "function_alias" {
  description = "Alias every caller invokes; roll back a function by moving it (aws lambda update-alias)."
  value       = local.function_alias
}

output "database_endpoint" {
  description = "Writer endpoint of the Aurora PostgreSQL cluster (reachable only from inside the VPC)."
  value       = aws_rds_cluster.this.endpoint
}

output "database_name" {
  description = "Name of the pipeline database (schema dataprocess)."
  value       = var.db_name
}

output "database_secret_arn" {
  description = "ARN of the RDS-managed master user secret (the value stays in Secrets Manager)."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "hmac_key_secret_arn" {
  description = "ARN of the pseudonymisation HMAC key secret (the value stays in Secrets Manager)."
  value       = aws_secretsmanager_secret.hmac_key.arn
}

output "kms_key_arn" {
  description = "ARN of the pipeline's KMS key (buckets, logs, secrets, queue, database)."
  value       = aws_kms_key.this.arn
}

output "events_dead_letter_queue_url" {
  description = "SQS queue holding upload events that could not start a run."
  value       = aws_sqs_queue.events_dlq.id
}

output "vpc_id" {
  description = "ID of the pipeline's private VPC."
  value       = aws_vpc.this.id
}

output "upload_api_url" {
  description = "Base URL of the upload API: `dataprocess upload FILE --api <this>` (POST <this>/uploads, SigV4-signed by default)."
  value       = aws_apigatewayv2_api.uploads.api_endpoint
}
