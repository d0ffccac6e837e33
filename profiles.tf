################################################################################
# Dataset profiles
################################################################################

# One object per file of var.profiles_dir: profiles/<dataset>.json. DescribeRun (workflow.asl.json) derives
# the key from the uploaded object's key (incoming/<dataset>/…), and the upload API accepts exactly these
# datasets (DATAPROCESS_UPLOAD_DATASETS). `make plan` validates every file with the CLI's profile loader
# before Terraform runs (scripts/terraform.sh check_profiles). Changing a file and applying uploads the new
# version; runs started afterwards use it. Removing a file deletes its profile: later uploads of that
# dataset are refused, and an object already under its prefix fails as an unknown dataset.
resource "aws_s3_object" "profiles" {
  for_each = toset(local.datasets)

  bucket       = aws_s3_bucket.staging.id
  key          = "${local.profile_prefix}${each.key}.json"
  source       = "${local.profiles_path}/${each.key}.json"
  source_hash  = filemd5("${local.profiles_path}/${each.key}.json")
  content_type = "application/json"

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.staging]
}

check "profiles_present" {
  assert {
    condition     = length(local.datasets) > 0
    error_message = "profiles_dir has no <dataset>.json file: the stack would accept no upload."
  }
}
