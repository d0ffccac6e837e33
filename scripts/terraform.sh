#!/usr/bin/env bash
# The user commands behind `make plan`, `make deploy` and `make destroy`.
#   plan     package the functions, terraform init (backend.hcl), plan to ./tfplan, show it
#   deploy   re-package (must give the same bytes as at plan time), apply the saved ./tfplan
#   destroy  terraform destroy (asks for confirmation; deletion_protection must be off first)
# Each fails early, with a message saying what to do, when terraform (>= 1.11), AWS credentials or
# backend.hcl are missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

MIN_TERRAFORM=1.11
PLAN_FILE=tfplan
PLAN_HASHES=.local/tfplan.sha256

die() { echo "error: $*" >&2; exit 1; }
step() { echo "==> $*"; }

usage() {
    echo "usage: scripts/terraform.sh plan|deploy|destroy" >&2
    exit 2
}

require_terraform() {
    command -v terraform >/dev/null 2>&1 \
        || die "terraform is not installed or not on PATH. Install Terraform >= $MIN_TERRAFORM and run this again."
    local version
    version="$(terraform version 2>/dev/null | sed -n '1s/^Terraform v\([0-9][0-9.]*\).*/\1/p')"
    [[ -n "$version" ]] || die "could not read the version of $(command -v terraform)"
    if [[ "$(printf '%s\n%s\n' "$MIN_TERRAFORM" "$version" | sort -V | sed -n 1p)" != "$MIN_TERRAFORM" ]]; then
        die "terraform $version is too old: this stack needs >= $MIN_TERRAFORM (write-only arguments, ephemeral resources)"
    fi
}

require_credentials() {
    if command -v aws >/dev/null 2>&1; then
        aws sts get-caller-identity --output text --query Account >/dev/null 2>&1 \
            || die "no usable AWS credentials: 'aws sts get-caller-identity' failed. Log in (aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and run this again."
        return
    fi
    # Without the AWS CLI, accept the sources the Terraform AWS provider reads.
    if [[ -n "${AWS_ACCESS_KEY_ID:-}" || -n "${AWS_PROFILE:-}" || -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" \
          || -n "${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" || -n "${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" \
          || -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" || -f "${AWS_CONFIG_FILE:-$HOME/.aws/config}" ]]; then
        echo "warning: the AWS CLI is not installed, credentials cannot be checked before terraform runs" >&2
        return
    fi
    die "no AWS credentials found (no AWS CLI, no AWS_PROFILE / AWS_ACCESS_KEY_ID, no ~/.aws config). Configure credentials and run this again."
}

require_backend() {
    [[ -f backend.hcl ]] \
        || die "backend.hcl is missing: copy backend.hcl.example to backend.hcl and name your state bucket"
}

init() {
    step "terraform init (backend.hcl)"
    terraform init -input=false -backend-config=backend.hcl
}

package() {
    step "packaging the functions (scripts/package.sh)"
    scripts/package.sh
}

record_package_hashes() {
    mkdir -p "$(dirname "$PLAN_HASHES")"
    sha256sum dist/*.zip >"$PLAN_HASHES"
}

cmd_plan() {
    require_terraform
    require_credentials
    require_backend
    package
    init
    step "terraform plan -out=$PLAN_FILE"
    terraform plan -input=false -out="$PLAN_FILE"
    record_package_hashes
    step "terraform show $PLAN_FILE"
    terraform show "$PLAN_FILE"
    echo
    echo "Review the plan above, then run 'make deploy' to apply exactly this plan."
}

cmd_deploy() {
    require_terraform
    require_credentials
    require_backend
    [[ -f "$PLAN_FILE" ]] || die "no saved plan ($PLAN_FILE): run 'make plan' first and review it"
    package
    if [[ -f "$PLAN_HASHES" ]] && ! sha256sum --check --quiet "$PLAN_HASHES" >/dev/null 2>&1; then
        die "the function packages changed since the plan was made: run 'make plan' again"
    fi
    init
    step "terraform apply $PLAN_FILE"
    terraform apply -input=false "$PLAN_FILE"
    rm -f "$PLAN_FILE" "$PLAN_HASHES"
    step "outputs"
    terraform output
}

cmd_destroy() {
    require_terraform
    require_credentials
    require_backend
    # The configuration hashes the zips even to destroy: build them if they are missing.
    for zip in dist/enrichment.zip dist/anonymization.zip dist/consolidation.zip; do
        [[ -f "$zip" ]] || { package; break; }
    done
    init
    step "terraform destroy"
    echo "Note: the database has deletion protection on by default; set deletion_protection = false and apply before destroying."
    terraform destroy -input=false
}

[[ $# -eq 1 ]] || usage
case "$1" in
    plan) cmd_plan ;;
    deploy) cmd_deploy ;;
    destroy) cmd_destroy ;;
    *) usage ;;
esac
