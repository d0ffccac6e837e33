#!/usr/bin/env bash
# Builds one deterministic Lambda package per function project: dist/<function>.zip.
#   dotnet publish (Release, linux-arm64, framework-dependent for the managed dotnet10 runtime,
#   ReadyToRun; dynamic PGO off in the runtimeconfig, from Directory.Build.props) into
#   .local/publish/<function>, then tools/deterministic-zip.mjs (sorted entries,
#   1980-01-01 timestamps, fixed permissions, no extra fields): two runs give identical bytes, so
#   Terraform's source_code_hash only changes when the code does. The git commit is kept out of
#   the assemblies (no +<sha> informational version, no SourceLink) for the same reason, and
#   ContinuousIntegrationBuild maps source paths to /_/ so the clone's location does not matter.
# Usage: scripts/package.sh [function ...]   (default: all)
# Env:   DATAPROCESS_READY_TO_RUN=false  skip ReadyToRun (crossgen2) compilation
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# package name → project directory. locals.tf (local.packages) references dist/<package>.zip; the
# database package holds every function that reaches PostgreSQL (ReplayCheck, Consolidation,
# RecordFailure, RunStatus, migrate).
FUNCTIONS=(enrichment anonymization database uploadurl)
declare -A PROJECTS=(
    [enrichment]=src/DataProcess.Enrichment
    [anonymization]=src/DataProcess.Anonymization
    [database]=src/DataProcess.DatabaseFunctions
    [uploadurl]=src/DataProcess.UploadUrl
)

RUNTIME_IDENTIFIER=linux-arm64
READY_TO_RUN="${DATAPROCESS_READY_TO_RUN:-true}"

die() { echo "error: $*" >&2; exit 1; }

command -v dotnet >/dev/null 2>&1 || die "dotnet is not on PATH (install the .NET 10 SDK)"
command -v node >/dev/null 2>&1 || die "node is not on PATH (Node 20 or later)"
if [[ ! -d tools/node_modules/yazl ]]; then
    echo "==> installing tools/ (npm ci)"
    (cd tools && npm ci --no-audit --no-fund >/dev/null)
fi

selected=("$@")
if [[ ${#selected[@]} -eq 0 ]]; then
    selected=("${FUNCTIONS[@]}")
fi

mkdir -p dist .local/publish
for fn in "${selected[@]}"; do
    project="${PROJECTS[$fn]:-}"
    [[ -n "$project" ]] || die "unknown function '$fn' (known: ${FUNCTIONS[*]})"
    [[ -d "$project" ]] || die "project directory $project does not exist"

    out=".local/publish/$fn"
    rm -rf "$out"
    echo "==> $fn: dotnet publish $project ($RUNTIME_IDENTIFIER, ReadyToRun=$READY_TO_RUN)"
    # Same properties for the build and the publish. A full rebuild (not incremental) so that no
    # assembly built earlier with other settings ends up in the package.
    props=(
        --configuration Release
        --runtime "$RUNTIME_IDENTIFIER"
        --self-contained false
        --nologo
        -p:PublishReadyToRun="$READY_TO_RUN"
        -p:ContinuousIntegrationBuild=true
        -p:IncludeSourceRevisionInInformationalVersion=false
        -p:EnableSourceLink=false
        -p:GenerateRuntimeConfigurationFiles=true
    )
    dotnet build "$project" --no-incremental "${props[@]}"
    dotnet publish "$project" --no-build --output "$out" "${props[@]}"

    echo "==> $fn: dist/$fn.zip"
    node tools/deterministic-zip.mjs "$out" "dist/$fn.zip"
done

(cd dist && sha256sum "${selected[@]/%/.zip}")
