#!/usr/bin/env bash
# The user commands behind `make plan`, `make deploy` and `make destroy`.
#   plan     package the functions, terraform init (backend.hcl), plan to ./tfplan, show it
#   deploy   re-package (must give the same bytes as at plan time), apply the saved ./tfplan
#   destroy  terraform destroy (asks for confirmation; deletion_protection must be off first)
# Each fails early, with a message saying what to do, when terraform (>= 1.11), AWS credentials or
# backend.hcl are missing. `plan` also refuses a plan whose reserved concurrency the account's
# Lambda quota cannot give (Lambda keeps at least 100 executions unreserved), and refuses a profiles
# directory the pipeline's own profile loader refuses (`dataprocess profiles check`), before terraform runs.
# Sourced (the offline tests call the checks one by one), it only defines the functions.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

MIN_TERRAFORM=1.11
MIN_UNRESERVED_CONCURRENCY=100 # Lambda refuses a reservation that leaves fewer unreserved
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

# The directory Terraform uploads (var.profiles_dir): PROFILES_DIR, else terraform.tfvars's profiles_dir, else profiles.
profiles_dir() {
    local from_tfvars=""
    [[ -f terraform.tfvars ]] && from_tfvars="$(sed -n 's/^[[:space:]]*profiles_dir[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' terraform.tfvars | tail -n 1)"
    echo "${PROFILES_DIR:-${from_tfvars:-profiles}}"
}

# Every profile through the CLI's loader (the one the functions use), so a bad profile fails the plan, not the
# first upload. DATAPROCESS_CLI overrides how the CLI is started (default: the Release build, `make build`).
check_profiles() {
    local dir cli
    dir="$(profiles_dir)"
    cli="${DATAPROCESS_CLI:-dotnet src/DataProcess.Cli/bin/Release/net10.0/dataprocess.dll}"
    if [[ -z "${DATAPROCESS_CLI:-}" && ! -f src/DataProcess.Cli/bin/Release/net10.0/dataprocess.dll ]]; then
        die "the CLI is not built, so the profiles in $dir cannot be checked: run 'make build' (make plan does) and run this again"
    fi
    step "checking the profiles in $dir (dataprocess profiles check)"
    # shellcheck disable=SC2086 # the command is a word list on purpose
    $cli profiles check "$dir" || die "the profiles in $dir were refused (above): fix them and run 'make plan' again; nothing was planned"
}

init() {
    step "terraform init (backend.hcl)"
    terraform init -input=false -backend-config=backend.hcl
}

package() {
    step "packaging the functions (scripts/package.sh)"
    scripts/package.sh
}

# The planned reservations (from the saved plan) against the account's quota. With no reservation
# there is nothing to check (and the AWS CLI is not needed). Returns non-zero with an error line.
check_reserved_concurrency() {
    local totals planned current named settings limit unreserved left
    totals="$(terraform show -json "$PLAN_FILE" | node tools/reserved-concurrency.mjs)" \
        || { echo "error: could not read the reserved concurrency from $PLAN_FILE" >&2; return 1; }
    { read -r planned current; read -r named || true; } <<<"$totals"
    (( planned > 0 )) || return 0
    if ! command -v aws >/dev/null 2>&1; then
        echo "error: the plan reserves concurrency ($named) but the AWS CLI is not installed to check the account's Lambda quota. Install it, or set the reservations to null (no reservation)." >&2
        return 1
    fi
    settings="$(aws lambda get-account-settings --query '[AccountLimit.ConcurrentExecutions,AccountLimit.UnreservedConcurrentExecutions]' --output text 2>/dev/null)" \
        || { echo "error: 'aws lambda get-account-settings' failed: cannot check the reserved concurrency ($named) against the account's quota" >&2; return 1; }
    read -r limit unreserved <<<"$settings"
    [[ "$limit" =~ ^[0-9]+$ && "$unreserved" =~ ^[0-9]+$ ]] \
        || { echo "error: unexpected answer from 'aws lambda get-account-settings': $settings" >&2; return 1; }
    left=$(( unreserved + current - planned ))
    if (( left < MIN_UNRESERVED_CONCURRENCY )); then
        echo "error: the plan reserves $planned concurrent executions ($named), which would leave $left of the account's $limit unreserved; Lambda keeps at least $MIN_UNRESERVED_CONCURRENCY unreserved. Set the reservations to null (no reservation) or request a higher 'Concurrent executions' quota (Service Quotas, AWS Lambda)." >&2
        return 1
    fi
    echo "reserved concurrency: $planned ($named) of the account's $limit, $left left unreserved"
}

record_package_hashes() {
    mkdir -p "$(dirname "$PLAN_HASHES")"
    sha256sum dist/*.zip >"$PLAN_HASHES"
}

cmd_plan() {
    require_terraform
    require_credentials
    check_profiles
    require_backend
    package
    init
    step "terraform plan -out=$PLAN_FILE"
    terraform plan -input=false -out="$PLAN_FILE"
    step "reserved concurrency against the account's Lambda quota"
    if ! check_reserved_concurrency; then
        rm -f "$PLAN_FILE"
        die "the plan was discarded: fix the reservation and run 'make plan' again"
    fi
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
    for zip in dist/enrichment.zip dist/anonymization.zip dist/database.zip dist/uploadurl.zip; do
        [[ -f "$zip" ]] || { package; break; }
    done
    init
    step "terraform destroy"
    echo "Note: the database has deletion protection on by default; set deletion_protection = false and apply before destroying."
    terraform destroy -input=false
}

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0

[[ $# -eq 1 ]] || usage
case "$1" in
    plan) cmd_plan ;;
    deploy) cmd_deploy ;;
    destroy) cmd_destroy ;;
    *) usage ;;
esac
