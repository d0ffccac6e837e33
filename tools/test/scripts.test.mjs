import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

function run(args, bin) {
    const home = path.join(temp, "home");
    mkdirSync(home, { recursive: true });
    return spawnSync("bash", [script, ...args], {
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home }, // no AWS_* variables, no ~/.aws
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
