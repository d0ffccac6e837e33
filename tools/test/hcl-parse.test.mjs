import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { HclSyntaxError, loadConfig, parseHcl, repoRoot, terraformFiles } from "../lib/terraform.mjs";

test("every .tf file parses with HashiCorp's HCL parser (hcl2json)", async () => {
    const files = terraformFiles();
    assert.ok(files.length >= 12, `expected the stack's .tf files, found ${files.length}`);
    for (const file of files) {
        const json = await parseHcl(path.basename(file), readFileSync(file, "utf8"));
        assert.equal(typeof json, "object", file);
    }
});

test("the example backend and variable files parse as HCL", async () => {
    for (const name of ["backend.hcl.example", "terraform.tfvars.example"]) {
        const json = await parseHcl(name, readFileSync(path.join(repoRoot, name), "utf8"));
        assert.ok(Object.keys(json).length > 0, name);
    }
});

test("one concern per file: the expected files exist and hold their blocks", async () => {
    const config = await loadConfig();
    const byFile = (file) => config.blocks.filter((b) => b.file === file).map((b) => b.type);
    assert.ok(byFile("vpc.tf").includes("aws_vpc"));
    assert.ok(byFile("security.tf").includes("aws_kms_key"));
    assert.ok(byFile("compute.tf").includes("aws_lambda_function"));
    assert.ok(byFile("database.tf").includes("aws_rds_cluster"));
    assert.ok(byFile("storage.tf").includes("aws_s3_bucket"));
    assert.ok(byFile("events.tf").includes("aws_cloudwatch_event_rule"));
    assert.ok(byFile("stepfunctions.tf").includes("aws_sfn_state_machine"));
    assert.ok(byFile("secrets.tf").includes("aws_secretsmanager_secret"));
    assert.ok(Object.keys(config.variables).length > 10, "variables.tf");
    assert.ok(Object.keys(config.outputs).length > 5, "outputs.tf");
});

test("a syntax error is reported with its file and line", async () => {
    const broken = 'resource "aws_s3_bucket" "x" {\n  bucket = "ok"\n  tags = \n}\n';
    await assert.rejects(parseHcl("broken.tf", broken), (error) => {
        assert.ok(error instanceof HclSyntaxError);
        assert.equal(error.file, "broken.tf");
        assert.equal(error.line, 3);
        assert.match(error.message, /^broken\.tf:3:\d+: /);
        return true;
    });
});

test("an unclosed block is reported with its file and line", async () => {
    await assert.rejects(parseHcl("unclosed.tf", 'locals {\n  a = 1\n'), (error) => {
        assert.equal(error.file, "unclosed.tf");
        assert.ok(error.line >= 1);
        return true;
    });
});
