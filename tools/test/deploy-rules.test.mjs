// The rules that hold what a first deploy in a real account (and the runs after it) needs, each
// shown failing on a broken copy of the Terraform. The rules themselves run on the real
// configuration in security.test.mjs ("security rule: …").
import assert from "node:assert/strict";
import { test } from "node:test";
import { brokenCopy, replaceOnce, setEntry } from "../lib/brokencopy.mjs";
import { rules } from "../lib/rules.mjs";

const aliases = rules["functions are published and invoked through their aliases"];

test("broken copy: functions without publish = true fail 'functions are published and invoked through their aliases'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(t, "publish                        = true", "publish                        = false"));
    const problems = aliases(broken);
    assert.equal(problems.length, 7, problems.join("\n"));
    assert.ok(problems.includes('aws_lambda_function.this["consolidation"]: publish is not true (no version to roll back to)'));
});

test("broken copy: the workflow invoking $LATEST fails 'functions are published and invoked through their aliases'", async () => {
    const broken = await brokenCopy("locals.tf", (t) => replaceOnce(t, 'aws_lambda_alias.live["consolidation"].arn', 'aws_lambda_function.this["consolidation"].arn'));
    assert.deepEqual(aliases(broken), [
        'aws_sfn_state_machine.this.definition: consolidation_function_arn = ${aws_lambda_function.this["consolidation"].arn} is not an alias ARN',
    ]);
});

test("broken copy: an API integration or permission without the alias fails 'functions are published and invoked through their aliases'", async () => {
    const broken = await brokenCopy("api.tf", (t) => replaceOnce(
        replaceOnce(t, 'aws_lambda_alias.live["run_status"].invoke_arn', 'aws_lambda_function.this["run_status"].invoke_arn'),
        '  qualifier     = aws_lambda_alias.live["upload_url"].name\n', ""));
    assert.deepEqual(aliases(broken), [
        'aws_apigatewayv2_integration.run_status: integration_uri ${aws_lambda_function.this["run_status"].invoke_arn} is not an alias',
        "aws_lambda_permission.upload_api: no alias qualifier (the permission would not cover the alias the API invokes)",
    ]);
});

test("broken copy: the state machine allowed to invoke an unqualified function fails 'functions are published and invoked through their aliases'", async () => {
    const broken = await brokenCopy("security.tf", (t) => replaceOnce(t, 'aws_lambda_alias.live["enrichment"].arn,', 'aws_lambda_function.this["enrichment"].arn,'));
    assert.deepEqual(aliases(broken), ['data.aws_iam_policy_document.state_machine InvokePipelineFunctions: lambda:InvokeFunction on ${aws_lambda_function.this["enrichment"].arn}, not an alias']);
});


const reservations = rules["reserved concurrency only from variables defaulting to none"];

test("broken copy: a fixed reservation in the function table fails 'reserved concurrency only from variables defaulting to none'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => setEntry(t, "run_status", "reserved_concurrency", "2"));
    assert.deepEqual(reservations(broken), ['aws_lambda_function.this["run_status"]: reserved_concurrent_executions = 2 is not a variable (a fixed reservation can exceed the account\'s quota)']);
});

test("broken copy: a reservation variable with a default fails 'reserved concurrency only from variables defaulting to none'", async () => {
    const broken = await brokenCopy("variables.tf", (t) => t.replace(/(variable "consolidation_reserved_concurrency" \{[\s\S]*?default\s+= )null/, "$12"));
    assert.deepEqual(reservations(broken), ['aws_lambda_function.this["consolidation"]: variable consolidation_reserved_concurrency defaults to 2, not null (no reservation)']);
});

const engineVersion = rules["engine version pinned only where minor upgrades cannot drift from it"];

test("broken copy: a pinned engine version without ignore_changes fails 'engine version pinned only where minor upgrades cannot drift from it'", async () => {
    const broken = await brokenCopy("database.tf", (t) => t.replace(/\n  lifecycle \{\n    ignore_changes = \[engine_version\]\n  \}\n/g, "\n"));
    assert.deepEqual(engineVersion(broken), [
        "aws_rds_cluster.this: engine_version is set while minor versions upgrade automatically, without lifecycle { ignore_changes = [engine_version] }",
        "aws_rds_cluster_instance.this: engine_version is set while minor versions upgrade automatically, without lifecycle { ignore_changes = [engine_version] }",
    ]);
});

test("the other consistent policy passes too: auto minor upgrades off, the pinned version the truth", async () => {
    const broken = await brokenCopy("database.tf", (t) => replaceOnce(t.replace(/\n  lifecycle \{\n    ignore_changes = \[engine_version\]\n  \}\n/g, "\n"), "auto_minor_version_upgrade = true", "auto_minor_version_upgrade = false"));
    assert.deepEqual(engineVersion(broken), []);
});

const zones = rules["availability zones and endpoint services from the account and the partition"];

test("broken copy: a literal com.amazonaws. service name fails 'availability zones and endpoint services from the account and the partition'", async () => {
    const broken = await brokenCopy("vpc.tf", (t) => replaceOnce(t, '"${local.reverse_dns_prefix}.${local.region}.s3"', '"com.amazonaws.${local.region}.s3"'));
    assert.deepEqual(zones(broken), ["aws_vpc_endpoint.s3: a literal partition (com.amazonaws. / amazonaws.com / arn:aws:), not data.aws_partition"]);
});

test("broken copy: zones without the opt-in filter or the exclusion variable fail 'availability zones and endpoint services from the account and the partition'", async () => {
    const broken = await brokenCopy("locals.tf", (t) => replaceOnce(
        replaceOnce(t, "  exclude_zone_ids = var.excluded_zone_ids\n", ""),
        '  filter {\n    name   = "opt-in-status"\n    values = ["opt-in-not-required"]\n  }\n', ""));
    assert.deepEqual(zones(broken), [
        'data.aws_availability_zones.available: no filter opt-in-status = ["opt-in-not-required"] (opt-in Local/Wavelength Zones could be chosen)',
        "data.aws_availability_zones.available: exclude_zone_ids is not a variable (a user cannot exclude a zone)",
    ]);
});

test("broken copy: zones the SSM endpoint may not serve fail 'availability zones and endpoint services from the account and the partition'", async () => {
    const broken = await brokenCopy("locals.tf", (t) => replaceOnce(t,
        "[for az in data.aws_availability_zones.available.names : az if contains(data.aws_vpc_endpoint_service.ssm.availability_zones, az)]",
        "data.aws_availability_zones.available.names"));
    assert.deepEqual(zones(broken), ["local.azs: not limited to the zones of data.aws_vpc_endpoint_service.ssm (aws_vpc_endpoint.ssm)"]);
});

test("broken copy: an empty lifecycle filter fails 'lifecycle rules have an explicit filter'", async () => {
    const broken = await brokenCopy("storage.tf", (t) => t.replace('    filter {\n      prefix = ""\n    }\n', "    filter {}\n"));
    assert.deepEqual(rules["lifecycle rules have an explicit filter"](broken), ['aws_s3_bucket_lifecycle_configuration.input rule abort-incomplete-multipart-uploads: empty filter {} (use filter { prefix = "" } for the whole bucket)']);
});

test("broken copy: API access logs outside /aws/vendedlogs/ fail 'vended logs go to /aws/vendedlogs/ log groups'", async () => {
    const broken = await brokenCopy("api.tf", (t) => replaceOnce(t, '"/aws/vendedlogs/apigateway/${local.name}-uploads"', '"/aws/apigateway/${local.name}-uploads"'));
    assert.deepEqual(rules["vended logs go to /aws/vendedlogs/ log groups"](broken), ["aws_apigatewayv2_stage.uploads: logs to aws_cloudwatch_log_group.upload_api_access (/aws/apigateway/${local.name}-uploads), not a /aws/vendedlogs/ log group"]);
});

test("broken copy: VPC functions without the SSM endpoint dependency or the security group swap fail 'VPC functions wait for the endpoints and let go of their security groups on destroy'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(replaceOnce(t, "    aws_vpc_endpoint.ssm,\n", ""),
        "replace_security_groups_on_destroy = each.value.vpc", "replace_security_groups_on_destroy = false"));
    const problems = rules["VPC functions wait for the endpoints and let go of their security groups on destroy"](broken);
    assert.ok(problems.includes('aws_lambda_function.this["run_status"]: does not depend on aws_vpc_endpoint.ssm'), problems.join("\n"));
    assert.ok(problems.includes('aws_lambda_function.this["consolidation"]: replace_security_groups_on_destroy is not true'), problems.join("\n"));
    assert.equal(problems.length, 8, "two problems for each of the four VPC functions");
});

test("broken copy: system logs at WARN fail 'Lambda system logs keep the REPORT lines'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(t, 'system_log_level      = "INFO"', 'system_log_level      = "WARN"'));
    const problems = rules["Lambda system logs keep the REPORT lines"](broken);
    assert.equal(problems.length, 7);
    assert.equal(problems[0], 'aws_lambda_function.this["anonymization"]: system_log_level WARN drops the REPORT lines (use INFO)');
});

test("broken copy: DescribeLogGroups on the flow-log group alone fails 'list calls are not scoped to one resource'", async () => {
    const broken = await brokenCopy("security.tf", (t) => replaceOnce(t, 'actions   = ["logs:DescribeLogGroups"]\n    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]', 'actions   = ["logs:DescribeLogGroups"]\n    resources = [aws_cloudwatch_log_group.flow_logs.arn]'));
    assert.deepEqual(rules["list calls are not scoped to one resource"](broken), ["data.aws_iam_policy_document.flow_logs FindFlowLogGroup: logs:DescribeLogGroups scoped to ${aws_cloudwatch_log_group.flow_logs.arn} (a list call needs the account's resources)"]);
});

const runsEnd = rules["every run ends, and its bad ends are alarmed"];

test("broken copy: no workflow timeout and no aborted-runs alarm fail 'every run ends, and its bad ends are alarmed'", async () => {
    const withoutTimeout = await brokenCopy("workflow.asl.json", (t) => replaceOnce(t, '  "TimeoutSeconds": 86400,\n', ""));
    assert.deepEqual(runsEnd(withoutTimeout), ["workflow.asl.json: no TimeoutSeconds (a hung run would last a year)"]);
    const withoutAlarm = await brokenCopy("events.tf", (t) => replaceOnce(t, 'metric_name         = "ExecutionsAborted"', 'metric_name         = "ExecutionsSucceeded"'));
    assert.deepEqual(runsEnd(withoutAlarm), ["no alarm on the state machine's ExecutionsAborted"]);
});

const listing = rules["s3:ListBucket where missing must be told from forbidden, and only under a prefix"];

test("broken copy: the failure path unable to list incoming/ fails 's3:ListBucket where missing must be told from forbidden, and only under a prefix'", async () => {
    const broken = await brokenCopy("security.tf", (t) => replaceOnce(t, 'sid       = "ListIncomingToTellMovedFromForbidden"\n    actions   = ["s3:ListBucket"]', 'sid       = "ListIncomingToTellMovedFromForbidden"\n    actions   = ["s3:GetObjectTagging"]'));
    assert.deepEqual(listing(broken), ['aws_lambda_function.this["record_failure"]: moves sources out of incoming/ but cannot list ${local.incoming_prefix}* (an already moved source answers 403)']);
});

test("broken copy: listing without an s3:prefix condition fails 's3:ListBucket where missing must be told from forbidden, and only under a prefix'", async () => {
    const broken = await brokenCopy("security.tf", (t) => replaceOnce(t, '      variable = "s3:prefix"\n      values   = ["${local.profile_prefix}*"]', '      variable = "aws:SecureTransport"\n      values   = ["true"]'));
    const problems = listing(broken);
    assert.equal(problems.length, 10, problems.join("\n")); // five profile readers: unconditioned, and no listing of profiles/
    assert.ok(problems.includes('aws_lambda_function.this["enrichment"]: data.aws_iam_policy_document.list_profiles ListProfilesToTellMissingFromForbidden grants s3:ListBucket without an s3:prefix condition'), problems.join("\n"));
});
