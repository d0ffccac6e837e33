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
    assert.equal(problems.length, 8, problems.join("\n"));
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
    assert.equal(problems.length, 10, "two problems for each of the five VPC functions");
});

test("broken copy: system logs at WARN fail 'Lambda system logs keep the REPORT lines'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(t, 'system_log_level      = "INFO"', 'system_log_level      = "WARN"'));
    const problems = rules["Lambda system logs keep the REPORT lines"](broken);
    assert.equal(problems.length, 8);
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
    const withoutAlarm = await brokenCopy("events.tf", (t) => replaceOnce(t, 'metric      = "ExecutionsAborted"', 'metric      = "ExecutionsSucceeded"'));
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
    assert.ok(problems.includes('aws_lambda_function.this["enrichment"]: data.aws_iam_policy_document.read_profile ListProfilesToTellMissingFromForbidden grants s3:ListBucket without an s3:prefix condition'), problems.join("\n"));
});

const contract = rules["database environment per the access contract"];

test("broken copy: an app function given the master secret fails the contract and 'only the migrate role reads the master secret'", async () => {
    const env = await brokenCopy("compute.tf", (t) => replaceOnce(t, "    consolidation  = merge(local.common_environment, local.app_database_environment)",
        "    consolidation  = merge(local.common_environment, local.app_database_environment, { DATAPROCESS_DB_SECRET_ID = aws_rds_cluster.this.master_user_secret[0].secret_arn })"));
    assert.deepEqual(contract(env), [
        'aws_lambda_function.this["consolidation"]: both DATAPROCESS_DB_USER and DATAPROCESS_DB_SECRET_ID (a configuration error)',
        'aws_lambda_function.this["consolidation"]: DATAPROCESS_DB_SECRET_ID: only the migrate function holds the master secret',
    ]);
    const iam = await brokenCopy("security.tf", (t) => replaceOnce(t, '    data.aws_iam_policy_document.app_database.json,\n  ]\n\n  statement {\n    sid       = "ReadStageOutputs"',
        '    data.aws_iam_policy_document.app_database.json,\n    data.aws_iam_policy_document.database_secret.json,\n  ]\n\n  statement {\n    sid       = "ReadStageOutputs"'));
    assert.deepEqual(rules["only the migrate role reads the master secret"](iam), ['roles that read the master secret: [aws_iam_role.function["consolidation"],aws_iam_role.function["migrate"]], expected [aws_iam_role.function["migrate"]]']);
});

test("broken copy: RunStatus connecting as the application role, or without the CA bundle, fails 'database environment per the access contract'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(t, "      DATAPROCESS_DB_USER      = local.db_readonly_user\n", "      DATAPROCESS_DB_USER      = local.db_app_user\n"));
    assert.deepEqual(contract(broken), ['aws_lambda_function.this["run_status"]: DATAPROCESS_DB_USER is "dataprocess_app", expected "dataprocess_readonly"']);
    const noCa = await brokenCopy("locals.tf", (t) => replaceOnce(t, '    DATAPROCESS_DB_SSL_ROOT_CERT = "rds-ca-bundle.pem"\n', ""));
    assert.equal(contract(noCa).length, 5, "every database function");
    assert.match(contract(noCa)[0], /DATAPROCESS_DB_SSL_ROOT_CERT is undefined, not the shipped rds-ca-bundle\.pem/);
});

test("broken copy: the migrate function without the connection limit fails 'database environment per the access contract'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(t, "      DATAPROCESS_DB_CONNECTION_LIMIT = tostring(var.db_app_connection_limit)\n", ""));
    assert.deepEqual(contract(broken), ['aws_lambda_function.this["migrate"]: no DATAPROCESS_DB_CONNECTION_LIMIT (the application role\'s cap on connections)']);
});

const connect = rules["every app role's rds-db:connect is scoped to one database user"];

test("broken copy: rds-db:connect on every user of the cluster fails 'every app role's rds-db:connect is scoped to one database user'", async () => {
    const broken = await brokenCopy("security.tf", (t) => replaceOnce(t, "cluster_resource_id}/${each.value}", "cluster_resource_id}/*"));
    const problems = connect(broken);
    assert.equal(problems.length, 4, problems.join("\n"));
    assert.match(problems[0], /^aws_lambda_function\.this\["consolidation"\]: rds-db:connect on arn:.*:dbuser:\$\{aws_rds_cluster\.this\.cluster_resource_id\}\/\*, expected exactly .*\/dataprocess_app$/);
});

test("broken copy: RunStatus allowed to connect as the application role fails 'every app role's rds-db:connect is scoped to one database user'", async () => {
    const broken = await brokenCopy("api.tf", (t) => replaceOnce(t, 'database_connect["readonly"]', 'database_connect["app"]'));
    assert.equal(connect(broken).length, 1);
    assert.match(connect(broken)[0], /^aws_lambda_function\.this\["run_status"\]: rds-db:connect on .*\/dataprocess_app, expected exactly .*\/dataprocess_readonly$/);
});

test("broken copy: aliases moving before the migration, or a migration blind to its settings, fail 'migrations run on apply, before new code goes live'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(t, "\n  # New code goes live only on the migrated schema.\n  depends_on = [aws_lambda_invocation.migrate]\n", "\n"));
    assert.deepEqual(rules["migrations run on apply, before new code goes live"](broken), ["aws_lambda_alias.live: may move before the migration ran"]);
    const blind = await brokenCopy("database.tf", (t) => replaceOnce(t, "    settings = sha256(jsonencode(local.function_environments.migrate))\n", ""));
    assert.deepEqual(rules["migrations run on apply, before new code goes live"](blind), ["aws_lambda_invocation.migrate: triggers do not include the migrate function's settings"]);
});

test("broken copy: two functions sharing a role fail 'one role per function'", async () => {
    const broken = await brokenCopy("compute.tf", (t) => replaceOnce(t, "role                           = aws_iam_role.function[each.key].arn", 'role                           = aws_iam_role.function["consolidation"].arn'));
    assert.deepEqual(rules["one role per function"](broken), ['aws_iam_role.function["consolidation"]: shared by [anonymization,consolidation,enrichment,migrate,record_failure,replay_check,run_status,upload_url]']);
});

test("broken copy: RunStatus given kms:GenerateDataKey fails 'data keys only for functions that write objects'", async () => {
    const broken = await brokenCopy("security.tf", (t) => replaceOnce(t, '    sid       = "PipelineKey"\n    actions   = ["kms:Decrypt"]', '    sid       = "PipelineKey"\n    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]'));
    assert.deepEqual(rules["data keys only for functions that write objects"](broken), [
        'aws_lambda_function.this["consolidation"]: kms:GenerateDataKey without any s3:PutObject',
        'aws_lambda_function.this["migrate"]: kms:GenerateDataKey without any s3:PutObject',
        'aws_lambda_function.this["replay_check"]: kms:GenerateDataKey without any s3:PutObject',
        'aws_lambda_function.this["run_status"]: kms:GenerateDataKey without any s3:PutObject',
    ]);
});
