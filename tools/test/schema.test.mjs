import assert from "node:assert/strict";
import { test } from "node:test";
import { loadAwsSchema, providerAwsVersion } from "../lib/schema.mjs";
import { checkAgainstSchema } from "../lib/schemacheck.mjs";
import { loadConfig } from "../lib/terraform.mjs";

const config = await loadConfig();
const schema = loadAwsSchema();

// A configuration of one hand-written block, for the negative tests.
const single = (kind, type, body) => ({ blocks: [{ kind, type, name: "t", body, file: "test.tf" }] });

test("the schema comes from @cdktf/provider-aws built on AWS provider 6.x", () => {
    assert.match(providerAwsVersion(), /^6\.\d+\.\d+$/);
    assert.ok(schema.resources.size > 1000, `resources: ${schema.resources.size}`);
    assert.ok(schema.dataSources.size > 400, `data sources: ${schema.dataSources.size}`);
    const version = schema.resources.get("aws_secretsmanager_secret_version");
    assert.ok(version.arguments.has("secret_string_wo"), "write-only secret_string_wo exists in 6.x");
    assert.ok(version.arguments.has("secret_string_wo_version"));
    const cluster = schema.resources.get("aws_rds_cluster");
    assert.ok(cluster.blocks.get("serverlessv2_scaling_configuration").schema.arguments.has("seconds_until_auto_pause"));
});

test("every resource, data source, argument and nested block exists in the provider schema, required ones present", () => {
    assert.deepEqual(checkAgainstSchema(config), []);
});

test("an invented argument is caught", () => {
    const problems = checkAgainstSchema(single("resource", "aws_s3_bucket", { bucket: "b", public_please: true }));
    assert.deepEqual(problems, ['test.tf: aws_s3_bucket.t: unknown argument "public_please"']);
});

test("an invented argument inside a nested block is caught", () => {
    const problems = checkAgainstSchema(single("resource", "aws_lambda_function", {
        function_name: "f", role: "r", tracing_config: [{ mode: "Active", sampling: 1 }],
    }));
    assert.deepEqual(problems, ['test.tf: aws_lambda_function.t.tracing_config: unknown argument "sampling"']);
});

test("a missing required argument is caught", () => {
    const problems = checkAgainstSchema(single("resource", "aws_lambda_function", { function_name: "f" }));
    assert.deepEqual(problems, ['test.tf: aws_lambda_function.t: missing required argument "role"']);
});

test("an unknown resource type is caught", () => {
    const problems = checkAgainstSchema(single("resource", "aws_s3_bucket_magic", {}));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /unknown resource type "aws_s3_bucket_magic"/);
});

test("a nested block written as an attribute is caught", () => {
    const problems = checkAgainstSchema(single("resource", "aws_s3_bucket_versioning", {
        bucket: "b", versioning_configuration: { status: "Enabled" },
    }));
    assert.match(problems.join("\n"), /"versioning_configuration" is a nested block/);
});

test("non-AWS types are limited to the hand-written allowlist (ephemeral random_password)", () => {
    const nonAws = config.blocks.filter((b) => !b.type.startsWith("aws_")).map((b) => `${b.kind}.${b.type}`);
    assert.deepEqual([...new Set(nonAws)], ["ephemeral.random_password"]);
    assert.match(checkAgainstSchema(single("ephemeral", "random_password", { length: 64, colour: "red" })).join(), /unknown argument "colour"/);
    assert.match(checkAgainstSchema(single("resource", "random_password", { length: 64 })).join(), /unknown resource type/);
});

test("the terraform block pins Terraform >= 1.11, AWS >= 6.27 and random >= 3.7.1 with an s3 backend", () => {
    const main = config.files.find((f) => f.file.endsWith("main.tf")).json;
    const tf = main.terraform[0];
    assert.match(tf.required_version, />= 1\.1[1-9]/);
    const providers = tf.required_providers[0];
    assert.equal(providers.aws.source, "hashicorp/aws");
    assert.equal(providers.aws.version, ">= 6.27");
    assert.equal(providers.random.source, "hashicorp/random");
    assert.deepEqual(tf.backend.s3, [{}], "s3 backend with partial configuration (empty block)");
    assert.ok(main.provider.aws[0].default_tags, "provider default_tags");
});
