# DataProcess: `make run` loads the bundled sample end to end; `make test` runs every test.
SHELL        := /bin/bash
.SHELLFLAGS  := -euo pipefail -c
.DEFAULT_GOAL := help

CONFIGURATION ?= Release
LOCAL_DIR     ?= .local
CLI_DLL       := src/DataProcess.Cli/bin/$(CONFIGURATION)/net10.0/dataprocess.dll
DATAPROCESS   := dotnet $(CLI_DLL)
KEY_FILE      := $(LOCAL_DIR)/hmac.key
SAMPLE        ?= samples/customers.json
PROFILE       ?= profiles/customers.json

export DOTNET_NOLOGO := 1
export DOTNET_CLI_TELEMETRY_OPTOUT := 1

.PHONY: help build install run test test-dotnet test-infra tools package plan deploy destroy bench microbench db-stop clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: ## Build the solution (Release)
	dotnet build DataProcess.sln -c $(CONFIGURATION) -warnaserror --nologo -v quiet

$(KEY_FILE): | build
	$(DATAPROCESS) keygen --out $(KEY_FILE)

run: build $(KEY_FILE) ## Run the whole pipeline on the bundled sample (embedded PostgreSQL under .local/)
	$(DATAPROCESS) run $(SAMPLE) --profile $(PROFILE) --key-file $(KEY_FILE) --local-dir $(LOCAL_DIR)
	@echo "query the rows: $(DATAPROCESS) runs --local-dir $(LOCAL_DIR)   or   psql \"\$$($(DATAPROCESS) db url --local-dir $(LOCAL_DIR))\"" >&2

test: test-dotnet test-infra ## Run every test: .NET (unit, handler, PostgreSQL integration) and the offline infrastructure checks
	@scripts/test-summary.sh $(LOCAL_DIR)/test-dotnet.log $(LOCAL_DIR)/test-infra.log

# The S3 adapter and local-stack tests start s3rver, the workflow tests aws-local-stepfunctions, from tools/node_modules.
test-dotnet: build tools
	@mkdir -p $(LOCAL_DIR)
	dotnet test DataProcess.sln -c $(CONFIGURATION) --no-build --nologo -v quiet | tee $(LOCAL_DIR)/test-dotnet.log

test-infra: build tools ## Offline proof of the Terraform and workflow.asl.json (HCL parse, provider schema, security rules, ASL)
	@mkdir -p $(LOCAL_DIR)
	cd tools && npm test | tee $(abspath $(LOCAL_DIR))/test-infra.log

tools: tools/node_modules/.package-lock.json ## Install the Node tools (s3rver, aws-local-stepfunctions, the Terraform checks) under tools/

PREFIX ?= /usr/local
install: build ## Put dataprocess on PATH: a wrapper in PREFIX/bin (default /usr/local) that runs this clone's Release build
	@mkdir -p $(PREFIX)/bin
	@printf '#!/bin/sh\nexec dotnet "%s" "$$@"\n' "$(abspath $(CLI_DLL))" > $(PREFIX)/bin/dataprocess
	@chmod 755 $(PREFIX)/bin/dataprocess
	@echo "installed $(PREFIX)/bin/dataprocess -> $(abspath $(CLI_DLL))"

tools/node_modules/.package-lock.json: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error

package: ## Build one deterministic Lambda zip per function under dist/
	scripts/package.sh

plan: build ## Check the profiles, terraform init (backend.hcl) + plan to tfplan + show; needs terraform and AWS credentials
	scripts/terraform.sh plan

deploy: ## Package, then apply the saved plan
	scripts/terraform.sh deploy

destroy: ## terraform destroy
	scripts/terraform.sh destroy

# The benchmark matrix (BENCHMARKS.md says what each cell runs). QUICK=1: 10 and 50 MB only, into .local/bench/quick.md.
SEED          ?= 20261127
REPEAT        ?= 3
PYTHON        ?= /usr/bin/python3
PEER_PROFILES ?= heavy
ifeq ($(QUICK),1)
BENCH_MB      ?= 10 50
PEER_MB       ?= 10 50
BENCH_OUT     ?= $(LOCAL_DIR)/bench/quick.md
else
BENCH_MB      ?= 10 50 200 1000
PEER_MB       ?= 10 50 200
BENCH_OUT     ?= BENCHMARKS.md
endif

bench: build ## Benchmark matrix (sizes x profiles x layouts) and the plain-Python peer; rewrites BENCHMARKS.md (QUICK=1: 10 and 50 MB)
	@bench/peer/ensure-psycopg2.sh $(PYTHON)
	dotnet run --project bench/DataProcess.Bench -c $(CONFIGURATION) --no-build -- --sizes '$(BENCH_MB)' --peer-sizes '$(PEER_MB)' \
	  --peer-profiles '$(PEER_PROFILES)' --repeat $(REPEAT) --seed $(SEED) --python $(PYTHON) --out $(BENCH_OUT) $(BENCH_ARGS)

db-stop: build ## Stop the embedded PostgreSQL cluster
	$(DATAPROCESS) db stop --local-dir $(LOCAL_DIR)

clean: ## Remove build output (keeps .local/, the database and the key)
	dotnet clean DataProcess.sln -c $(CONFIGURATION) --nologo -v quiet
	rm -rf dist

microbench: ## BenchmarkDotNet micro-benchmarks of the hot paths (FILTER='*Reader*' to pick; results in BenchmarkDotNet.Artifacts/)
	dotnet run --project bench/DataProcess.MicroBenchmarks -c Release -- --filter '$(or $(FILTER),*)' $(MICROBENCH_ARGS)
