import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { repoRoot } from "../lib/terraform.mjs";

const script = path.join(repoRoot, "scripts", "terraform.sh");
const temp = mkdtempSync(path.join(os.tmpdir(), "dataprocess-tfsh-"));
after(() => rmSync(temp, { recursive: true, force: true }));

/** A bin directory with stand-ins for terraform and aws, and a PATH with only it and the system. */
function fakeBin(name, { terraform, aws }) {
    const bin = path.join(temp, name);
    mkdirSync(bin, { recursive: true });
    const write = (cmd, body) => { writeFileSync(path.join(bin, cmd), `#!/bin/sh\n${body}\n`); chmodSync(path.join(bin, cmd), 0o755); };
    if (terraform) write("terraform", `echo "Terraform v${terraform}"; echo "on linux_amd64"`);
    if (aws) write("aws", aws === "fail" ? 'echo "Unable to locate credentials" >&2; exit 255' : "echo 123456789012");
    return bin;
}

function run(args, bin, extraEnv = {}) {
    const home = path.join(temp, "home");
    mkdirSync(home, { recursive: true });
    return spawnSync("bash", [script, ...args], {
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home, DOTNET_NOLOGO: "1", DOTNET_CLI_TELEMETRY_OPTOUT: "1", ...extraEnv }, // no AWS_* variables, no ~/.aws
    });
}

test("terraform.sh has valid bash syntax and strict mode", () => {
    assert.equal(spawnSync("bash", ["-n", script]).status, 0);
});

test("terraform.sh without a subcommand (or an unknown one) prints usage and exits 2", () => {
    const bin = fakeBin("usage", {});
    for (const args of [[], ["apply"]]) {
        const r = run(args, bin);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /usage: scripts\/terraform\.sh plan\|deploy\|destroy/);
    }
});

for (const cmd of ["plan", "deploy", "destroy"]) {
    test(`terraform.sh ${cmd} fails early with a clear message when terraform is missing`, () => {
        const r = run([cmd], fakeBin("none", {}));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /^error: terraform is not installed or not on PATH\. Install Terraform >= 1\.11/);
        assert.equal(r.stdout, "", "nothing ran before the check");
    });
}

test("terraform.sh plan refuses a terraform older than 1.11", () => {
    const r = run(["plan"], fakeBin("old", { terraform: "1.9.8", aws: "ok" }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: terraform 1\.9\.8 is too old: this stack needs >= 1\.11/);
});

test("terraform.sh plan fails early when AWS credentials are missing (aws sts get-caller-identity fails)", () => {
    const r = run(["plan"], fakeBin("nocreds", { terraform: "1.11.4", aws: "fail" }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: no usable AWS credentials: 'aws sts get-caller-identity' failed/);
});

test("terraform.sh plan fails early when there is neither an AWS CLI nor any credential source", () => {
    const r = run(["plan"], fakeBin("nocli", { terraform: "1.12.0" }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: no AWS credentials found/);
});

test("terraform.sh deploy without a saved plan says to run make plan", () => {
    const r = spawnSync("bash", [script, "deploy"], {
        encoding: "utf8",
        cwd: repoRoot,
        env: { PATH: `${fakeBin("deploy", { terraform: "1.11.4", aws: "ok" })}:/usr/bin:/bin`, HOME: path.join(temp, "home") },
    });
    // backend.hcl is git-ignored: in a clean clone the backend check fires first, otherwise the plan check.
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: (backend\.hcl is missing|no saved plan \(tfplan\): run 'make plan' first)/);
});

// The reserved-concurrency check of `plan`, called on its own (the script, sourced, only defines
// its functions): a stand-in terraform prints a saved plan's JSON, a stand-in aws the account's
// Lambda settings.
function quotaBin(name, { limit, unreserved, aws = true, awsFails = false }) {
    const bin = path.join(temp, name);
    mkdirSync(bin, { recursive: true });
    const write = (cmd, body) => { writeFileSync(path.join(bin, cmd), `#!/bin/sh\n${body}\n`); chmodSync(path.join(bin, cmd), 0o755); };
    write("terraform", 'case "$1" in version) echo "Terraform v1.11.4";; show) cat "$FAKE_PLAN_JSON";; *) exit 3;; esac');
    if (aws) {
        write("aws", awsFails
            ? 'echo "An error occurred (AccessDeniedException)" >&2; exit 254'
            : `if [ "$1 $2" = "lambda get-account-settings" ]; then printf '%s\\t%s\\n' ${limit} ${unreserved}; echo "$*" > "${bin}/aws-args"; else echo 123456789012; fi`);
    }
    return bin;
}

/** A `terraform show -json` plan with these functions: { name: [reservation before (null: new), after] }. */
function planJson(name, functions) {
    const file = path.join(temp, `${name}.plan.json`);
    const resource_changes = Object.entries(functions).map(([fn, [before, after]]) => ({
        address: `aws_lambda_function.this["${fn}"]`,
        type: "aws_lambda_function",
        change: {
            actions: before === null ? ["create"] : ["update"],
            before: before === null ? null : { function_name: `dp-dev-${fn}`, reserved_concurrent_executions: before },
            after: { function_name: `dp-dev-${fn}`, reserved_concurrent_executions: after },
        },
    }));
    writeFileSync(file, JSON.stringify({ format_version: "1.2", resource_changes }));
    return file;
}

function checkQuota(bin, plan) {
    return spawnSync("bash", ["-c", 'source "$1"; PLAN_FILE=tfplan; check_reserved_concurrency', "check", script], {
        encoding: "utf8",
        env: { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: path.join(temp, "home"), FAKE_PLAN_JSON: plan },
    });
}

test("terraform.sh plan: no reservation needs no quota check (and no AWS CLI)", () => {
    const r = checkQuota(quotaBin("noreserve", { aws: false }), planJson("none", { consolidation: [null, -1], "run-status": [null, -1] }));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
});

test("terraform.sh plan refuses a reservation that would leave fewer than 100 unreserved (a new account's quota of 10)", () => {
    const bin = quotaBin("quota10", { limit: 10, unreserved: 10 });
    const r = checkQuota(bin, planJson("small", { consolidation: [null, 2], "run-status": [null, -1] }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: the plan reserves 2 concurrent executions \(dp-dev-consolidation=2\), which would leave 8 of the account's 10 unreserved; Lambda keeps at least 100 unreserved\. Set the reservations to null/);
    assert.match(readFileSync(path.join(bin, "aws-args"), "utf8"), /^lambda get-account-settings --query /);
});

test("terraform.sh plan accepts a reservation the quota can give, and says what is left", () => {
    const r = checkQuota(quotaBin("quota1000", { limit: 1000, unreserved: 1000 }), planJson("fits", { consolidation: [null, 2], "run-status": [null, 3] }));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "reserved concurrency: 5 (dp-dev-consolidation=2 dp-dev-run-status=3) of the account's 1000, 995 left unreserved\n");
});

test("terraform.sh plan counts what the functions reserve today as given back (a kept reservation is not counted twice)", () => {
    // 1000 in the account, 850 reserved elsewhere, 50 by Consolidation today: 100 unreserved.
    const bin = quotaBin("kept", { limit: 1000, unreserved: 100 });
    assert.equal(checkQuota(bin, planJson("kept", { consolidation: [50, 50] })).status, 0);
    const raised = checkQuota(bin, planJson("raised", { consolidation: [50, 51] }));
    assert.equal(raised.status, 1);
    assert.match(raised.stderr, /would leave 99 of the account's 1000 unreserved/);
});

test("terraform.sh plan refuses a reservation it cannot check (no AWS CLI, or the call fails)", () => {
    const plan = planJson("unchecked", { consolidation: [null, 2] });
    const noCli = checkQuota(quotaBin("reserve-nocli", { aws: false }), plan);
    assert.equal(noCli.status, 1);
    assert.match(noCli.stderr, /^error: the plan reserves concurrency \(dp-dev-consolidation=2\) but the AWS CLI is not installed/);
    const failing = checkQuota(quotaBin("reserve-denied", { awsFails: true }), plan);
    assert.equal(failing.status, 1);
    assert.match(failing.stderr, /^error: 'aws lambda get-account-settings' failed/);
});

// make plan checks the profiles with the real CLI (make test builds it first) before terraform init or plan.
function profilesDir(name, files) {
    const dir = path.join(temp, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
    return dir;
}

/** A terraform stand-in that logs each call, so a test can tell whether plan ran. */
function loggingTerraform(name) {
    const bin = fakeBin(name, { aws: "ok" });
    const log = path.join(bin, "calls.log");
    writeFileSync(path.join(bin, "terraform"), `#!/bin/sh\necho "$*" >> "${log}"\necho "Terraform v1.11.4"\n`);
    chmodSync(path.join(bin, "terraform"), 0o755);
    return { bin, calls: () => readFileSync(log, "utf8").trim().split("\n") };
}

test("terraform.sh plan refuses a bad profile with the loader's message before terraform init or plan runs", () => {
    const { bin, calls } = loggingTerraform("badprofile");
    const dir = profilesDir("profiles-bad", {
        "customers.json": readFileSync(path.join(repoRoot, "profiles", "customers.json"), "utf8"),
        "orders.json": JSON.stringify({ dataset: "orders", id: "orderId", anonymize: { customerEmail: "hsah" } }),
    });
    const r = run(["plan"], bin, { PROFILES_DIR: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /profile orders\.json: anonymize\.customerEmail: unknown method 'hsah'/);
    assert.match(r.stderr, /error: the profiles in .* were refused \(above\): fix them and run 'make plan' again; nothing was planned/);
    assert.deepEqual(calls(), ["version"], "terraform was asked its version only");
});

test("terraform.sh plan refuses a profile whose dataset does not match its file name", () => {
    const { bin } = loggingTerraform("mismatch");
    const dir = profilesDir("profiles-mismatch", { "orders.json": JSON.stringify({ dataset: "customers", id: "id" }) });
    const r = run(["plan"], bin, { PROFILES_DIR: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /orders\.json: dataset is 'customers' but the file is named orders\.json/);
});

test("terraform.sh's profile check passes the repository's profiles and lists their datasets", () => {
    const r = spawnSync("bash", ["-c", `source "${script}" && check_profiles`], { encoding: "utf8", cwd: repoRoot, env: { ...process.env, PROFILES_DIR: "profiles" } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^customers\t.*customers\.json$/m);
    assert.match(r.stdout, /^orders\t.*orders\.json$/m);
});
