import assert from "node:assert/strict";
import { test } from "node:test";
import { listGrants } from "../lib/list-grants.mjs";
import { loadConfig } from "../lib/terraform.mjs";
import { lambdaFunctions } from "../lib/functions.mjs";

const config = await loadConfig();

test("the failure path may list incoming/ (to tell a moved source from a forbidden one) and profiles/ (a missing profile)", () => {
    assert.deepEqual(listGrants(config, "record_failure").sort((a, b) => a.bucket.localeCompare(b.bucket)), [
        { bucket: "input", prefix: "incoming/" },
        { bucket: "staging", prefix: "profiles/" },
    ]);
});

test("no function may list a whole bucket: every s3:ListBucket grant is scoped by s3:prefix", () => {
    for (const fn of lambdaFunctions(config)) {
        for (const grant of listGrants(config, fn.key)) assert.notEqual(grant.prefix, "", `${fn.key} lists all of ${grant.bucket}`);
    }
});

test("an unscoped grant in a broken copy is read as the whole bucket (the check has teeth)", async () => {
    const broken = structuredClone(config);
    const doc = broken.blocks.find((b) => b.kind === "data" && b.type === "aws_iam_policy_document" && b.name === "read_profile");
    for (const st of doc.body.statement) delete st.condition;
    assert.ok(listGrants(broken, "replay_check").some((g) => g.bucket === "staging" && g.prefix === ""));
});
