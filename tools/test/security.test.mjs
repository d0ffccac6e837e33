import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { brokenCopy, removeBlock, setEntry } from "../lib/brokencopy.mjs";
import { rules } from "../lib/rules.mjs";
import { loadConfig, repoRoot } from "../lib/terraform.mjs";

const config = await loadConfig();

// Each rule, asserted on the real configuration, as its own named test.
for (const [name, rule] of Object.entries(rules)) {
    test(`security rule: ${name}`, () => {
        assert.deepEqual(rule(config), []);
    });
}

test("broken copy: removing the staging bucket's public access block fails 'no public bucket'", async () => {
    const broken = await brokenCopy("storage.tf", (t) => removeBlock(t, 'resource "aws_s3_bucket_public_access_block" "staging" {'));
    assert.deepEqual(rules["no public bucket"](broken), ["aws_s3_bucket.staging: no aws_s3_bucket_public_access_block"]);
});

test("broken copy: one public access setting false fails 'no public bucket'", async () => {
    const broken = await brokenCopy("storage.tf", (t) => t.replace("restrict_public_buckets = true", "restrict_public_buckets = false"));
    assert.deepEqual(rules["no public bucket"](broken), ["aws_s3_bucket_public_access_block.input: restrict_public_buckets is not true"]);
});

test('broken copy: adding "s3:*" to a function policy fails \'no wildcard IAM actions\'', async () => {
    const broken = await brokenCopy("security.tf", (t) => t.replace('actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]', 'actions   = ["s3:*"]'));
    const problems = rules["no wildcard IAM actions"](broken);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /data\.aws_iam_policy_document\.enrichment WriteStageOutput: wildcard action "s3:\*"/);
});

test("broken copy: an inline jsonencode policy fails 'no wildcard IAM actions'", async () => {
    const broken = await brokenCopy("security.tf", (t) => t.replace(
        "policy = data.aws_iam_policy_document.events.json",
        'policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "states:*", Resource = "*" }] })'));
    assert.match(rules["no wildcard IAM actions"](broken).join("\n"), /aws_iam_role_policy\.events\.policy: not an aws_iam_policy_document/);
});

test("broken copy: invoking any function fails 'lambda:InvokeFunction scoped to the function ARNs'", async () => {
    const broken = await brokenCopy("security.tf", (t) => t.replace('aws_lambda_alias.live["replay_check"].arn,\n    ]', '"arn:aws:lambda:*:*:function:*",\n    ]'));
    assert.equal(rules["lambda:InvokeFunction scoped to the function ARNs"](broken).length, 1);
});

test("broken copy: StartExecution on every state machine fails 'states:StartExecution scoped to the state machine'", async () => {
    const broken = await brokenCopy("security.tf", (t) => t.replace("resources = [aws_sfn_state_machine.this.arn]", 'resources = ["*"]'));
    assert.equal(rules["states:StartExecution scoped to the state machine"](broken).length, 1);
});

test("broken copy: a NAT gateway fails 'no NAT or internet gateway'", async () => {
    const broken = await brokenCopy("vpc.tf", (t) => `${t}\nresource "aws_nat_gateway" "this" {\n  subnet_id = aws_subnet.private[0].id\n}\n`);
    assert.deepEqual(rules["no NAT or internet gateway"](broken), ["aws_nat_gateway.this: the VPC must have no path to the internet"]);
});

test("broken copy: Enrichment in the VPC (its entry in the function map) fails 'only the database functions in the VPC'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => setEntry(t, "enrichment", "vpc", "true"));
    assert.deepEqual(rules["only the database functions in the VPC"](broken), ["functions in the VPC: [consolidation,enrichment,migrate,record_failure,replay_check,run_status], expected [consolidation,migrate,record_failure,replay_check,run_status]"]);
});

test("broken copy: RunStatus out of the VPC fails 'only the database functions in the VPC'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => setEntry(t, "run_status", "vpc", "false"));
    assert.deepEqual(rules["only the database functions in the VPC"](broken), ["functions in the VPC: [consolidation,migrate,record_failure,replay_check], expected [consolidation,migrate,record_failure,replay_check,run_status]"]);
});

test("broken copy: a vpc_config the rules cannot decide statically fails 'only the database functions in the VPC'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => t.replace("for_each = each.value.vpc ? [true] : []", "for_each = var.log_level == \"DEBUG\" ? [true] : []"));
    const problems = rules["only the database functions in the VPC"](broken);
    assert.equal(problems.length, 8, problems.join("\n"));
    assert.match(problems[0], /^aws_lambda_function\.this\["[a-z_]+"\]: cannot be read statically \(dynamic vpc_config not statically known\)$/);
});

test("broken copy: a function written outside the map, in the VPC, fails 'only the database functions in the VPC'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => `${t}
resource "aws_lambda_function" "extra" {
  function_name = "extra"
  role          = aws_iam_role.function["enrichment"].arn

  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.functions.id]
  }
}
`);
    assert.deepEqual(rules["only the database functions in the VPC"](broken), ["functions in the VPC: [consolidation,extra,migrate,record_failure,replay_check,run_status], expected [consolidation,migrate,record_failure,replay_check,run_status]"]);
});

test("broken copy: a public database instance fails the database rule", async () => {
    const broken = await brokenCopy("database.tf", (t) => t.replace("publicly_accessible        = false", "publicly_accessible        = true"));
    assert.deepEqual(rules["database private, encrypted, IAM auth, deletion protection, TLS"](broken), ["aws_rds_cluster_instance.this: publicly_accessible is not explicitly false"]);
});

test("broken copy: deletion protection off by default fails the database rule", async () => {
    const broken = await brokenCopy("variables.tf", (t) => t.replace(/(variable "deletion_protection" \{[^}]*default\s*=\s*)true/, "$1false"));
    assert.deepEqual(rules["database private, encrypted, IAM auth, deletion protection, TLS"](broken), ["aws_rds_cluster.this: deletion_protection is not true by default"]);
});

test("broken copy: no rds.force_ssl fails the database rule", async () => {
    const broken = await brokenCopy("database.tf", (t) => t.replace('value = "1"', 'value = "0"'));
    assert.match(rules["database private, encrypted, IAM auth, deletion protection, TLS"](broken).join(), /rds\.force_ssl/);
});

test("broken copy: a bucket without the TLS-only statement fails 'TLS-only bucket policy on every bucket'", async () => {
    const broken = await brokenCopy("storage.tf", (t) => t.replace('values   = ["false"]', 'values   = ["true"]'));
    assert.deepEqual(rules["TLS-only bucket policy on every bucket"](broken), ["aws_s3_bucket.input: bucket policy does not deny aws:SecureTransport=false on the bucket and its objects"]);
});

test("broken copy: AES256 instead of KMS fails 'SSE-KMS on every bucket'", async () => {
    const broken = await brokenCopy("storage.tf", (t) => t.replace('sse_algorithm     = "aws:kms"', 'sse_algorithm     = "AES256"'));
    assert.equal(rules["SSE-KMS on every bucket"](broken).length, 1);
});

test("broken copy: no staging expiry fails the lifecycle rule", async () => {
    const broken = await brokenCopy("storage.tf", (t) => t.replace("days = var.staging_expiration_days", "# no expiry"));
    assert.deepEqual(rules["lifecycle expires staging and aborts incomplete multipart uploads"](broken), ["aws_s3_bucket.staging: no enabled lifecycle rule expires stage outputs"]);
});

test("broken copy: suspended versioning fails 'versioning on the input bucket'", async () => {
    const broken = await brokenCopy("storage.tf", (t) => t.replace('status = "Enabled"\n  }\n}', 'status = "Suspended"\n  }\n}'));
    assert.equal(rules["versioning on the input bucket"](broken).length, 1);
});

test("broken copy: rotation off fails 'KMS rotation on'", async () => {
    const broken = await brokenCopy("security.tf", (t) => t.replace("enable_key_rotation     = true", "enable_key_rotation     = false"));
    assert.deepEqual(rules["KMS rotation on"](broken), ["aws_kms_key.this: enable_key_rotation is not true"]);
});

test("broken copy: a target without a DLQ or retry policy fails 'EventBridge target has a DLQ and a retry policy'", async () => {
    const broken = await brokenCopy("events.tf", (t) => t
        .replace("  dead_letter_config {\n    arn = aws_sqs_queue.events_dlq.arn\n  }\n", "")
        .replace(/  retry_policy \{[^}]*\}\n/, ""));
    assert.deepEqual(rules["EventBridge target has a DLQ and a retry policy"](broken), [
        "aws_cloudwatch_event_target.start_run: no SQS dead-letter queue",
        "aws_cloudwatch_event_target.start_run: no retry policy",
    ]);
});

test("broken copy: a log group without KMS fails 'log groups have retention and KMS'", async () => {
    const broken = await brokenCopy("vpc.tf", (t) => t.replace("  kms_key_id        = aws_kms_key.this.arn\n", ""));
    assert.deepEqual(rules["log groups have retention and KMS"](broken), ["aws_cloudwatch_log_group.flow_logs: not encrypted with the KMS key"]);
});

test("broken copy: PassThrough tracing fails 'Lambda tracing Active and JSON logs'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => t.replace('mode = "Active"', 'mode = "PassThrough"'));
    const problems = rules["Lambda tracing Active and JSON logs"](broken);
    assert.equal(problems.length, 8, "the one block makes every function");
    assert.ok(problems.includes('aws_lambda_function.this["enrichment"]: tracing mode is not Active'), problems.join("\n"));
});

test("broken copy: ingress from 0.0.0.0/0 fails 'no security group ingress from 0.0.0.0/0'", async () => {
    const broken = await brokenCopy("security.tf", (t) => t.replace(
        "  referenced_security_group_id = aws_security_group.functions.id\n}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"endpoints_from_functions\"",
        "  cidr_ipv4                    = \"0.0.0.0/0\"\n}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"endpoints_from_functions\""));
    assert.deepEqual(rules["no security group ingress from 0.0.0.0/0"](broken), ["aws_vpc_security_group_ingress_rule.database_from_functions: open to the world"]);
});

test("broken copy: a password variable in a function's environment fails the secrets rule", async () => {
    const broken = await brokenCopy("locals.tf", (t) => t.replace(
        '    DATAPROCESS_OBJECT_STORE = "s3"\n',
        '    DATAPROCESS_OBJECT_STORE = "s3"\n    DATAPROCESS_DB_PASSWORD  = var.db_password\n'));
    const problems = rules["no secret value in outputs or environment variables"](broken);
    assert.equal(problems.length, 8, problems.join("\n")); // the shared environment reaches all eight functions
    assert.match(problems[0], /environment: references a password\/key\/secret\/token variable/);
});

test("broken copy: the HMAC key value in state or in an output fails the secrets rule", async () => {
    const broken = await brokenCopy("secrets.tf", (t) => `${t.replace("secret_string_wo         = ephemeral.random_password.hmac_key.result", "secret_string            = \"not-so-secret\"")}
output "hmac_key" {
  value = aws_secretsmanager_secret_version.hmac_key.secret_string
}
`);
    const problems = rules["no secret value in outputs or environment variables"](broken);
    assert.ok(problems.includes("output.hmac_key: references a secret's value"), problems.join("\n"));
    assert.ok(problems.includes("aws_secretsmanager_secret_version.hmac_key: value stored in state (use secret_string_wo)"), problems.join("\n"));
});

test("the broken-copy helper leaves the real configuration untouched", () => {
    assert.equal(readFileSync(path.join(repoRoot, "storage.tf"), "utf8").includes('resource "aws_s3_bucket_public_access_block" "staging"'), true);
});

test("broken copy: letting the upload role delete fails 'upload role writes only incoming/*'", async () => {
    const broken = await brokenCopy("api.tf", (t) => t.replace('actions   = ["s3:PutObject"]\n    resources = [local.incoming_objects_arn]', 'actions   = ["s3:PutObject", "s3:DeleteObject"]\n    resources = [local.incoming_objects_arn]'));
    assert.deepEqual(rules["upload role writes only incoming/*"](broken), ["data.aws_iam_policy_document.upload_url PutUploadsUnderIncoming: s3:DeleteObject (only s3:PutObject is allowed)"]);
});

test("broken copy: the upload role writing the whole input bucket fails 'upload role writes only incoming/*'", async () => {
    const broken = await brokenCopy("api.tf", (t) => t.replace("resources = [local.incoming_objects_arn]", 'resources = ["${aws_s3_bucket.input.arn}/*"]'));
    assert.deepEqual(rules["upload role writes only incoming/*"](broken), ['data.aws_iam_policy_document.upload_url PutUploadsUnderIncoming: s3 on "${aws_s3_bucket.input.arn}/*" (only incoming/* of the input bucket)']);
});

test("broken copy: an open POST /uploads route fails 'every API route is authorised'", async () => {
    const broken = await brokenCopy("api.tf", (t) => t.replace("authorization_type = var.upload_api_authorization", 'authorization_type = "NONE"'));
    assert.deepEqual(rules["every API route is authorised"](broken), ['aws_apigatewayv2_route.create_upload: authorization_type "NONE" is not AWS_IAM or JWT']);
});

test("broken copy: an upload stage without throttling fails 'API stages throttle and log access'", async () => {
    const broken = await brokenCopy("api.tf", (t) => t.replace(/  default_route_settings \{[^}]*\}\n\n/, ""));
    assert.deepEqual(rules["API stages throttle and log access"](broken), ["aws_apigatewayv2_stage.uploads: no default route throttling"]);
});
