import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { checkFormat } from "../lib/fmt.mjs";
import { repoRoot, terraformFiles } from "../lib/terraform.mjs";

test("every .tf and example file is laid out as terraform fmt would (indent, aligned =)", () => {
    const files = [...terraformFiles(), path.join(repoRoot, "backend.hcl.example"), path.join(repoRoot, "terraform.tfvars.example")];
    const problems = files.flatMap((f) => checkFormat(readFileSync(f, "utf8"), path.basename(f)));
    assert.deepEqual(problems, []);
});

test("the format checker catches a misaligned = in consecutive arguments", () => {
    const text = 'resource "aws_s3_bucket" "x" {\n  bucket = "a"\n  force_destroy = false\n}\n';
    assert.deepEqual(checkFormat(text, "x.tf"), ['x.tf:2: "=" at column 10, expected 17 (align with the lines around it)']);
});

test("the format checker catches padding beyond the longest name", () => {
    const text = 'locals {\n  a    = 1\n  bb   = 2\n}\n';
    assert.equal(checkFormat(text, "x.tf").length, 2);
});

test("the format checker catches wrong indentation, tabs and trailing whitespace", () => {
    const text = 'locals {\n   a = 1\n\tb = 2\n  c = 3 \n}\n';
    const problems = checkFormat(text, "x.tf");
    assert.ok(problems.includes("x.tf:2: indentation 3, expected 2"));
    assert.ok(problems.includes("x.tf:3: tab character"));
    assert.ok(problems.includes("x.tf:4: trailing whitespace"));
});

test("a multi-line value, a block or a blank line ends an alignment run (hclwrite's rule)", () => {
    const text = [
        "locals {",
        "  a   = 1",
        "  bbb = 2",
        "  list = [",
        "    1,",
        "  ]",
        "",
        "  longer_name = 3",
        "  x           = \"a = b\"",
        "  nested {",
        "    y = 1",
        "  }",
        "}",
        "",
    ].join("\n");
    assert.deepEqual(checkFormat(text, "x.tf"), []);
});

test("the format checker catches misaligned trailing comments and a missing final newline", () => {
    const problems = checkFormat("locals {\n  a = 1 # one\n  b = 2  # two\n}", "x.tf");
    assert.ok(problems.some((p) => p.startsWith("x.tf:3: comment at column")));
    assert.ok(problems.some((p) => p.includes("missing final newline")));
});
