// The security and operations rules of the stack, each a function (config) → list of violations.
// They read the hcl2json model (see terraform.mjs); expressions are compared as text, so the rules
// follow references ("${aws_s3_bucket.input.id}") rather than evaluating anything.
import {
    block, blocks, dataSources, expandLocals, instances, policyDocument, references, resolveLocal, resolveValue, resource, resources, variableDefault,
} from "./terraform.mjs";
import {
    documentOf as policyDocumentOf, environmentOf, environmentValue, functionStatements, granting, lambdaFunctions, roleOf, rolePolicies, roleStatements,
} from "./functions.mjs";
import { readWorkflow, templatefileBindings } from "./asl.mjs";

const isTrue = (v) => v === true || v === "true";
const bucketsOf = (config) => resources(config, "aws_s3_bucket");
const companion = (config, type, bucketName) =>
    resources(config, type).filter((r) => references(r.body.bucket, `aws_s3_bucket.${bucketName}.`));

/** "${data.aws_iam_policy_document.x.json}" (through locals) → the data block, or undefined. */
const documentOf = (config, expr) => policyDocumentOf(config, expr);

/** The function instances, or one problem per instance the rules cannot read statically. */
function readableFunctions(config) {
    const fns = lambdaFunctions(config);
    return { fns, unreadable: fns.filter((f) => f.unresolved).map((f) => `${f.address}: cannot be read statically (${f.unresolved})`) };
}

/** Every statement of every aws_iam_policy_document, with its document name. */
function statements(config) {
    return dataSources(config, "aws_iam_policy_document").flatMap((d) =>
        blocks(d.body, "statement").map((s, i) => ({ doc: d.name, sid: s.sid ?? `#${i}`, effect: s.effect ?? "Allow", s })));
}

const asList = (v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

export const rules = {
    /** Every bucket has a public access block with all four settings true. */
    "no public bucket": (config) => bucketsOf(config).flatMap((b) => {
        const pab = companion(config, "aws_s3_bucket_public_access_block", b.name)[0];
        if (!pab) return [`aws_s3_bucket.${b.name}: no aws_s3_bucket_public_access_block`];
        return ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
            .filter((k) => !isTrue(pab.body[k]))
            .map((k) => `aws_s3_bucket_public_access_block.${pab.name}: ${k} is not true`);
    }),

    /** Every bucket is encrypted by default with SSE-KMS and a customer managed key. */
    "SSE-KMS on every bucket": (config) => bucketsOf(config).flatMap((b) => {
        const sse = companion(config, "aws_s3_bucket_server_side_encryption_configuration", b.name)[0];
        if (!sse) return [`aws_s3_bucket.${b.name}: no server-side encryption configuration`];
        const byDefault = block(block(sse.body, "rule"), "apply_server_side_encryption_by_default");
        if (!byDefault || !["aws:kms", "aws:kms:dsse"].includes(byDefault.sse_algorithm)) return [`aws_s3_bucket.${b.name}: default encryption is not aws:kms`];
        if (!references(byDefault.kms_master_key_id, "aws_kms_key.")) return [`aws_s3_bucket.${b.name}: not encrypted with the pipeline's KMS key`];
        return [];
    }),

    /** Every bucket has a policy that denies requests without TLS on the bucket and its objects. */
    "TLS-only bucket policy on every bucket": (config) => bucketsOf(config).flatMap((b) => {
        const policy = companion(config, "aws_s3_bucket_policy", b.name)[0];
        if (!policy) return [`aws_s3_bucket.${b.name}: no bucket policy`];
        const doc = documentOf(config, policy.body.policy);
        if (!doc) return [`aws_s3_bucket_policy.${policy.name}: policy is not an aws_iam_policy_document`];
        const denies = blocks(doc.body, "statement").some((s) => s.effect === "Deny"
            && asList(s.actions).some((a) => a === "s3:*")
            && blocks(s, "condition").some((c) => c.test === "Bool" && c.variable === "aws:SecureTransport" && asList(c.values).map(String).includes("false"))
            && asList(s.resources).some((r) => r === `\${aws_s3_bucket.${b.name}.arn}`)
            && asList(s.resources).some((r) => r === `\${aws_s3_bucket.${b.name}.arn}/*`));
        return denies ? [] : [`aws_s3_bucket.${b.name}: bucket policy does not deny aws:SecureTransport=false on the bucket and its objects`];
    }),

    /** The input bucket is versioned. */
    "versioning on the input bucket": (config) => {
        const v = companion(config, "aws_s3_bucket_versioning", "input")[0];
        return block(v?.body, "versioning_configuration")?.status === "Enabled" ? [] : ["aws_s3_bucket.input: versioning is not Enabled"];
    },

    /** Every bucket aborts incomplete multipart uploads; the staging bucket expires stage outputs. */
    "lifecycle expires staging and aborts incomplete multipart uploads": (config) => {
        const problems = [];
        for (const b of bucketsOf(config)) {
            const lc = companion(config, "aws_s3_bucket_lifecycle_configuration", b.name)[0];
            const enabled = blocks(lc?.body, "rule").filter((r) => r.status === "Enabled");
            if (!enabled.some((r) => block(r, "abort_incomplete_multipart_upload")?.days_after_initiation !== undefined)) {
                problems.push(`aws_s3_bucket.${b.name}: no enabled lifecycle rule aborts incomplete multipart uploads`);
            }
            if (b.name === "staging" && !enabled.some((r) => block(r, "expiration")?.days !== undefined)) {
                problems.push("aws_s3_bucket.staging: no enabled lifecycle rule expires stage outputs");
            }
        }
        return problems;
    },

    /** No route to the internet: no internet, egress-only or NAT gateway, no EIP, no default route. */
    "no NAT or internet gateway": (config) => [
        ...["aws_internet_gateway", "aws_egress_only_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_internet_gateway_attachment"]
            .flatMap((t) => resources(config, t).map((r) => `${t}.${r.name}: the VPC must have no path to the internet`)),
        ...resources(config, "aws_route").filter((r) => r.body.gateway_id || r.body.nat_gateway_id || r.body.egress_only_gateway_id)
            .map((r) => `aws_route.${r.name}: route through a gateway`),
        ...resources(config, "aws_route_table").filter((r) => blocks(r.body, "route").length > 0)
            .map((r) => `aws_route_table.${r.name}: inline routes`),
        ...resources(config, "aws_subnet").filter((r) => isTrue(r.body.map_public_ip_on_launch))
            .map((r) => `aws_subnet.${r.name}: maps public IPs`),
    ],

    /**
      * Only the functions that reach the database are in the VPC, read from the for_each map
      * (a dynamic vpc_config is decided per function from its entry).
      */
    "only the database functions in the VPC": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        const inVpc = fns.filter((f) => block(f.body, "vpc_config")).map((f) => f.key).sort();
        const expected = ["consolidation", "migrate", "record_failure", "replay_check", "run_status"];
        return JSON.stringify(inVpc) === JSON.stringify(expected) ? [] : [`functions in the VPC: [${inVpc}], expected [${expected}]`];
    },

    /** Aurora: not public, encrypted with the key, IAM auth, managed password, deletion protection by default, TLS forced. */
    "database private, encrypted, IAM auth, deletion protection, TLS": (config) => {
        const problems = [];
        const clusters = resources(config, "aws_rds_cluster");
        if (clusters.length === 0) problems.push("no aws_rds_cluster");
        for (const c of clusters) {
            const at = `aws_rds_cluster.${c.name}`;
            if (!isTrue(c.body.storage_encrypted)) problems.push(`${at}: storage_encrypted is not true`);
            if (!references(c.body.kms_key_id, "aws_kms_key.")) problems.push(`${at}: not encrypted with the pipeline's KMS key`);
            if (!isTrue(c.body.iam_database_authentication_enabled)) problems.push(`${at}: IAM database authentication is off`);
            if (!isTrue(c.body.manage_master_user_password)) problems.push(`${at}: master password not managed by RDS in Secrets Manager`);
            for (const k of ["master_password", "master_password_wo"]) if (k in c.body) problems.push(`${at}: ${k} set in configuration`);
            const dp = c.body.deletion_protection;
            if (!(isTrue(dp) || variableDefault(config, dp) === true)) problems.push(`${at}: deletion_protection is not true by default`);
            if (isTrue(c.body.skip_final_snapshot)) problems.push(`${at}: skip_final_snapshot is true`);
            const pg = resources(config, "aws_rds_cluster_parameter_group")
                .find((p) => references(c.body.db_cluster_parameter_group_name, `aws_rds_cluster_parameter_group.${p.name}.`));
            if (!pg || !blocks(pg.body, "parameter").some((p) => p.name === "rds.force_ssl" && String(p.value) === "1")) {
                problems.push(`${at}: cluster parameter group does not set rds.force_ssl = 1`);
            }
            if (!(c.body.backup_retention_period)) problems.push(`${at}: no backup retention`);
        }
        for (const i of resources(config, "aws_rds_cluster_instance")) {
            if (i.body.publicly_accessible !== false && i.body.publicly_accessible !== "false") problems.push(`aws_rds_cluster_instance.${i.name}: publicly_accessible is not explicitly false`);
        }
        for (const i of resources(config, "aws_db_instance")) problems.push(`aws_db_instance.${i.name}: unexpected standalone DB instance`);
        return problems;
    },

    /** Every KMS key rotates. */
    "KMS rotation on": (config) => resources(config, "aws_kms_key")
        .filter((k) => !isTrue(k.body.enable_key_rotation)).map((k) => `aws_kms_key.${k.name}: enable_key_rotation is not true`),

    /**
      * No wildcard in an Allow statement's actions (a Deny may use one: it only takes rights away),
      * no NotAction, and every IAM policy argument is an aws_iam_policy_document (no inline JSON).
      */
    "no wildcard IAM actions": (config) => {
        const problems = [];
        for (const { doc, sid, effect, s } of statements(config)) {
            if (s.not_actions) problems.push(`data.aws_iam_policy_document.${doc} ${sid}: not_actions`);
            if (effect !== "Allow") continue;
            for (const a of asList(s.actions)) if (typeof a !== "string" || a.includes("*")) problems.push(`data.aws_iam_policy_document.${doc} ${sid}: wildcard action ${JSON.stringify(a)}`);
        }
        const policyArgs = [
            ["aws_iam_role", "assume_role_policy"], ["aws_iam_role_policy", "policy"], ["aws_iam_policy", "policy"],
            ["aws_s3_bucket_policy", "policy"], ["aws_sqs_queue_policy", "policy"], ["aws_kms_key", "policy"], ["aws_vpc_endpoint", "policy"],
        ];
        for (const [type, arg] of policyArgs) {
            for (const r of instances(config, type)) {
                const expr = r.body[arg];
                if (expr !== undefined && !documentOf(config, expr)) problems.push(`${r.address}.${arg}: not an aws_iam_policy_document (${JSON.stringify(expr)})`);
            }
        }
        for (const t of ["aws_iam_role_policy_attachment", "aws_iam_policy_attachment"]) {
            for (const r of resources(config, t)) if (String(r.body.policy_arn).includes(":aws:policy/")) problems.push(`${t}.${r.name}: AWS managed policy attached`);
        }
        return problems;
    },

    /** lambda:InvokeFunction only on the pipeline's function ARNs. */
    "lambda:InvokeFunction scoped to the function ARNs": (config) => {
        const problems = [];
        let found = 0;
        for (const { doc, sid, effect, s } of statements(config)) {
            if (effect !== "Allow" || !asList(s.actions).includes("lambda:InvokeFunction")) continue;
            found++;
            for (const r of asList(s.resources)) if (!/^\$\{aws_lambda_(function|alias)\.[A-Za-z0-9_]+(\["[a-z0-9_]+"\])?\.arn\}$/.test(r)) problems.push(`data.aws_iam_policy_document.${doc} ${sid}: lambda:InvokeFunction on ${JSON.stringify(r)}`);
        }
        return found ? problems : ["no statement grants lambda:InvokeFunction (the state machine needs one)"];
    },

    /** states:StartExecution only on the state machine. */
    "states:StartExecution scoped to the state machine": (config) => {
        const problems = [];
        let found = 0;
        for (const { doc, sid, effect, s } of statements(config)) {
            if (effect !== "Allow" || !asList(s.actions).includes("states:StartExecution")) continue;
            found++;
            for (const r of asList(s.resources)) if (!/^\$\{aws_sfn_state_machine\.[A-Za-z0-9_]+\.arn\}$/.test(r)) problems.push(`data.aws_iam_policy_document.${doc} ${sid}: states:StartExecution on ${JSON.stringify(r)}`);
        }
        return found ? problems : ["no statement grants states:StartExecution (EventBridge needs one)"];
    },

    /** Every EventBridge target retries and dead-letters to SQS. */
    "EventBridge target has a DLQ and a retry policy": (config) => {
        const targets = resources(config, "aws_cloudwatch_event_target");
        if (targets.length === 0) return ["no aws_cloudwatch_event_target"];
        return targets.flatMap((t) => {
            const p = [];
            if (!references(block(t.body, "dead_letter_config")?.arn, "aws_sqs_queue.")) p.push(`aws_cloudwatch_event_target.${t.name}: no SQS dead-letter queue`);
            const retry = block(t.body, "retry_policy");
            if (!retry?.maximum_retry_attempts || !retry?.maximum_event_age_in_seconds) p.push(`aws_cloudwatch_event_target.${t.name}: no retry policy`);
            if (!references(t.body.role_arn, "aws_iam_role.")) p.push(`aws_cloudwatch_event_target.${t.name}: no role`);
            return p;
        });
    },

    /** Every log group has a retention and the KMS key; every function logs to such a group. */
    "log groups have retention and KMS": (config) => [
        ...resources(config, "aws_cloudwatch_log_group").flatMap((g) => [
            ...(g.body.retention_in_days === undefined || g.body.retention_in_days === 0 ? [`aws_cloudwatch_log_group.${g.name}: no retention`] : []),
            ...(!references(g.body.kms_key_id, "aws_kms_key.") ? [`aws_cloudwatch_log_group.${g.name}: not encrypted with the KMS key`] : []),
        ]),
        ...lambdaFunctions(config)
            .filter((f) => !references(block(f.body, "logging_config")?.log_group, "aws_cloudwatch_log_group."))
            .map((f) => `${f.address}: logs to a group Terraform does not manage`),
        ...resources(config, "aws_sfn_state_machine")
            .filter((m) => !references(block(m.body, "logging_configuration")?.log_destination, "aws_cloudwatch_log_group."))
            .map((m) => `aws_sfn_state_machine.${m.name}: no logging to a managed log group`),
    ],

    /** Every function: X-Ray active tracing and JSON logs; the state machine traces too. */
    "Lambda tracing Active and JSON logs": (config) => [
        ...lambdaFunctions(config).flatMap((f) => [
            ...(block(f.body, "tracing_config")?.mode !== "Active" ? [`${f.address}: tracing mode is not Active`] : []),
            ...(block(f.body, "logging_config")?.log_format !== "JSON" ? [`${f.address}: log format is not JSON`] : []),
        ]),
        ...resources(config, "aws_sfn_state_machine")
            .filter((m) => !isTrue(block(m.body, "tracing_configuration")?.enabled)).map((m) => `aws_sfn_state_machine.${m.name}: tracing off`),
    ],

    /** No security group admits traffic from anywhere. */
    "no security group ingress from 0.0.0.0/0": (config) => {
        const open = (v) => JSON.stringify(v ?? null).match(/0\.0\.0\.0\/0|::\/0/);
        return [
            ...resources(config, "aws_vpc_security_group_ingress_rule").filter((r) => open(r.body.cidr_ipv4) || open(r.body.cidr_ipv6))
                .map((r) => `aws_vpc_security_group_ingress_rule.${r.name}: open to the world`),
            ...resources(config, "aws_security_group_rule").filter((r) => r.body.type === "ingress" && (open(r.body.cidr_blocks) || open(r.body.ipv6_cidr_blocks)))
                .map((r) => `aws_security_group_rule.${r.name}: open to the world`),
            ...resources(config, "aws_security_group").filter((r) => blocks(r.body, "ingress").some((i) => open(i.cidr_blocks) || open(i.ipv6_cidr_blocks)))
                .map((r) => `aws_security_group.${r.name}: inline ingress open to the world`),
        ];
    },

    /**
      * No secret value leaves Secrets Manager: outputs and function environments reference no
      * password/key/secret/token variable, no generated password, no secret value; the HMAC key is
      * written through a write-only argument from an ephemeral password.
      */
    "no secret value in outputs or environment variables": (config) => {
        const problems = [];
        const secretish = [
            [/\bvar\.[A-Za-z0-9_]*(password|passwd|secret|token|key)[A-Za-z0-9_]*\b/i, "a password/key/secret/token variable"],
            [/\bephemeral\./, "an ephemeral value"],
            [/\brandom_password\./, "a generated password"],
            [/\.secret_string\b|\.secret_string_wo\b|\.secret_binary\b/, "a secret's value"],
            [/\bdata\.aws_secretsmanager_secret_version\./, "a secret's value"],
            [/\bmaster_password\b|\.password\b/, "a password attribute"],
        ];
        const scan = (where, value) => {
            const text = expandLocals(config, value);
            for (const [re, what] of secretish) if (re.test(text)) problems.push(`${where}: references ${what}`);
        };
        for (const [name, o] of Object.entries(config.outputs)) {
            if (/password|secret_value|token/i.test(name)) problems.push(`output.${name}: name suggests a secret value`);
            scan(`output.${name}`, o.value);
        }
        for (const f of lambdaFunctions(config)) {
            const where = `${f.address}.environment`;
            for (const [re, what] of secretish) if (re.test(environmentOf(config, f).text)) problems.push(`${where}: references ${what}`);
        }
        for (const v of resources(config, "aws_secretsmanager_secret_version")) {
            if ("secret_string" in v.body || "secret_binary" in v.body) problems.push(`aws_secretsmanager_secret_version.${v.name}: value stored in state (use secret_string_wo)`);
            if (!references(v.body.secret_string_wo, "ephemeral.")) problems.push(`aws_secretsmanager_secret_version.${v.name}: secret_string_wo is not an ephemeral value`);
        }
        for (const r of resources(config, "random_password")) problems.push(`random_password.${r.name}: a managed random_password keeps its value in state (use ephemeral)`);
        return problems;
    },

    /**
      * The upload function's role (which signs the presigned POSTs) can only create objects under
      * incoming/ of the input bucket: s3:PutObject on local.incoming_objects_arn and no other S3 action.
      */
    "upload role writes only incoming/*": (config) => {
        const doc = policyDocument(config, "upload_url");
        if (!doc) return ["data.aws_iam_policy_document.upload_url: missing (the UploadUrl function's policy)"];
        const problems = [];
        let puts = 0;
        for (const [i, s] of blocks(doc.body, "statement").entries()) {
            if ((s.effect ?? "Allow") !== "Allow") continue;
            const sid = s.sid ?? `#${i}`;
            const s3 = asList(s.actions).filter((a) => typeof a === "string" && a.startsWith("s3:"));
            for (const a of s3) if (a !== "s3:PutObject") problems.push(`data.aws_iam_policy_document.upload_url ${sid}: ${a} (only s3:PutObject is allowed)`);
            if (s3.length === 0) continue;
            puts++;
            for (const r of asList(s.resources)) if (r !== "${local.incoming_objects_arn}") problems.push(`data.aws_iam_policy_document.upload_url ${sid}: s3 on ${JSON.stringify(r)} (only incoming/* of the input bucket)`);
        }
        if (puts === 0) problems.push("data.aws_iam_policy_document.upload_url: no s3:PutObject on incoming/* (uploads could not work)");
        const fn = lambdaFunctions(config).find((f) => f.key === "upload_url");
        const role = fn && roleOf(fn);
        const docs = role ? rolePolicies(config, role).map((p) => documentOf(config, p.body.policy)?.address) : [];
        if (!docs.includes("data.aws_iam_policy_document.upload_url")) problems.push("the upload_url function does not run with a role whose policy is data.aws_iam_policy_document.upload_url");
        return problems;
    },

    /** Every HTTP API route is authorised (AWS_IAM or JWT, never NONE) and the API has no default open route. */
    "every API route is authorised": (config) => {
        const routes = resources(config, "aws_apigatewayv2_route");
        if (routes.length === 0) return ["no aws_apigatewayv2_route (the upload API needs POST /uploads)"];
        const allowed = ["AWS_IAM", "JWT", "CUSTOM"];
        return routes.flatMap((r) => {
            const at = `aws_apigatewayv2_route.${r.name}`;
            const type = r.body.authorization_type;
            const value = allowed.includes(type) ? type : variableDefault(config, type);
            if (!allowed.includes(value)) return [`${at}: authorization_type ${JSON.stringify(type ?? "NONE")} is not AWS_IAM or JWT`];
            const variable = typeof type === "string" && type.match(/^\$\{var\.([A-Za-z0-9_]+)\}$/);
            if (variable) {
                const v = config.variables?.[variable[1]];
                const validations = JSON.stringify(v?.validation ?? []);
                if (!validations.includes("AWS_IAM") || validations.includes("NONE")) return [`${at}: variable ${variable[1]} is not validated to AWS_IAM/JWT`];
            }
            return [];
        });
    },

    /** Every HTTP API stage throttles and writes access logs to a managed (KMS, retention) log group. */
    "API stages throttle and log access": (config) => {
        const stages = resources(config, "aws_apigatewayv2_stage");
        if (resources(config, "aws_apigatewayv2_api").length > 0 && stages.length === 0) return ["an HTTP API without a stage"];
        return stages.flatMap((st) => {
            const at = `aws_apigatewayv2_stage.${st.name}`;
            const p = [];
            const settings = block(st.body, "default_route_settings");
            if (!settings?.throttling_rate_limit || !settings?.throttling_burst_limit) p.push(`${at}: no default route throttling`);
            if (!references(block(st.body, "access_log_settings")?.destination_arn, "aws_cloudwatch_log_group.")) p.push(`${at}: no access logs to a managed log group`);
            return p;
        });
    },
};

/** Rules of the first deploy and the runs after it (issue "what AWS does that our stand-ins hide"). */
Object.assign(rules, {
    /**
      * Lambda refuses a reservation that leaves the account fewer than 100 unreserved executions
      * (new accounts often have 10 in all): every reserved concurrency is a variable whose default
      * is null, no reservation; `make plan` checks a chosen one against the quota.
      */
    /**
      * One engine-version policy (docs/infrastructure.md): the cluster and its instances follow
      * AWS's minor upgrades, so a pinned engine_version is ignored after creation. Otherwise the
      * next apply after a maintenance-window upgrade tries a downgrade, which RDS refuses. (The
      * other consistent policy, auto_minor_version_upgrade = false everywhere, passes too.)
      */
    "engine version pinned only where minor upgrades cannot drift from it": (config) => {
        const databases = [...resources(config, "aws_rds_cluster"), ...resources(config, "aws_rds_cluster_instance")];
        const autoUpgrade = resources(config, "aws_rds_cluster_instance").some((i) => i.body.auto_minor_version_upgrade !== false && i.body.auto_minor_version_upgrade !== "false");
        if (!autoUpgrade) return [];
        return databases
            .filter((d) => d.body.engine_version !== undefined)
            .filter((d) => !blocks(d.body, "lifecycle").some((l) => asList(l.ignore_changes).includes("${engine_version}")))
            .map((d) => `${d.type}.${d.name}: engine_version is set while minor versions upgrade automatically, without lifecycle { ignore_changes = [engine_version] }`);
    },

    /**
      * The private subnets' zones come from the account (no opt-in zones, user-excludable zone
      * ids) and only from those the interface endpoint's service supports; endpoint service names
      * and ARNs come from the partition (no literal com.amazonaws. / amazonaws.com / arn:aws:).
      */
    "availability zones and endpoint services from the account and the partition": (config) => {
        const problems = [];
        const literal = /com\.amazonaws\.|amazonaws\.com|arn:aws:/;
        for (const b of config.blocks) if (literal.test(JSON.stringify(b.body))) problems.push(`${b.kind === "data" ? "data." : ""}${b.type}.${b.name}: a literal partition (com.amazonaws. / amazonaws.com / arn:aws:), not data.aws_partition`);
        for (const [name, value] of Object.entries(config.locals)) if (literal.test(JSON.stringify(value))) problems.push(`local.${name}: a literal partition, not data.aws_partition`);
        const zones = dataSources(config, "aws_availability_zones");
        if (zones.length === 0) problems.push("no data.aws_availability_zones: the zones would be hard-coded");
        for (const z of zones) {
            const at = `data.aws_availability_zones.${z.name}`;
            if (!blocks(z.body, "filter").some((f) => f.name === "opt-in-status" && JSON.stringify(asList(f.values)) === '["opt-in-not-required"]')) problems.push(`${at}: no filter opt-in-status = ["opt-in-not-required"] (opt-in Local/Wavelength Zones could be chosen)`);
            if (!/^\$\{var\.[A-Za-z0-9_]+\}$/.test(z.body.exclude_zone_ids ?? "")) problems.push(`${at}: exclude_zone_ids is not a variable (a user cannot exclude a zone)`);
        }
        const azs = expandLocals(config, "${local.azs}");
        const interfaces = resources(config, "aws_vpc_endpoint").filter((e) => e.body.vpc_endpoint_type === "Interface");
        for (const e of interfaces) {
            const service = e.body.service_name?.match(/^\$\{data\.aws_vpc_endpoint_service\.([A-Za-z0-9_]+)\.service_name\}$/);
            if (!service) problems.push(`aws_vpc_endpoint.${e.name}: service_name is not a data.aws_vpc_endpoint_service's (its zones are not known)`);
            else if (!azs.includes(`data.aws_vpc_endpoint_service.${service[1]}.availability_zones`)) problems.push(`local.azs: not limited to the zones of data.aws_vpc_endpoint_service.${service[1]} (aws_vpc_endpoint.${e.name})`);
        }
        if (!zones.some((z) => azs.includes(`data.aws_availability_zones.${z.name}.`))) problems.push("local.azs: not chosen from data.aws_availability_zones");
        for (const s of resources(config, "aws_subnet")) if (!references(s.body.availability_zone, "local.azs[")) problems.push(`aws_subnet.${s.name}: availability_zone is not from local.azs`);
        return problems;
    },

    /**
      * Every run ends and someone hears of it: the workflow has a TimeoutSeconds (without one a
      * hung execution lasts a year), and each way an execution ends badly has an alarm on the
      * state machine (failed, timed out, aborted).
      */
    "every run ends, and its bad ends are alarmed": (config) => {
        const problems = [];
        let definition;
        try {
            definition = JSON.parse(readWorkflow(config.dir).replace(/\$\{[^}]*\}/g, "0"));
        } catch (error) {
            return [`workflow.asl.json: ${error.message}`];
        }
        if (!(definition.TimeoutSeconds > 0)) problems.push("workflow.asl.json: no TimeoutSeconds (a hung run would last a year)");
        const alarms = instances(config, "aws_cloudwatch_metric_alarm").filter((a) => a.body.namespace === "AWS/States"
            && references(a.body.dimensions, "aws_sfn_state_machine.") && a.body.alarm_actions !== undefined);
        for (const metric of ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) {
            if (!alarms.some((a) => a.body.metric_name === metric)) problems.push(`no alarm on the state machine's ${metric}`);
        }
        return problems;
    },

    /**
      * S3 answers 403 for a missing key unless the caller may list the bucket. A function that must
      * tell "missing" from "forbidden" (a profile reader: "profile missing"; the failure path:
      * "source already moved") may list its bucket, and every s3:ListBucket is limited by an
      * s3:prefix condition to the prefix the function reads.
      */
    "s3:ListBucket where missing must be told from forbidden, and only under a prefix": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        const problems = [];
        const lists = (sts, bucket, prefix) => granting(sts, "s3:ListBucket").some((st) => asList(st.s.resources).includes(`\${aws_s3_bucket.${bucket}.arn}`)
            && blocks(st.s, "condition").some((c) => c.variable === "s3:prefix" && asList(c.values).includes(`\${local.${prefix}}*`)));
        for (const f of fns) {
            const sts = functionStatements(config, f);
            for (const st of granting(sts, "s3:ListBucket")) {
                if (!blocks(st.s, "condition").some((c) => c.variable === "s3:prefix" && ["StringLike", "StringEquals"].includes(c.test))) problems.push(`${f.address}: ${st.doc} ${st.sid} grants s3:ListBucket without an s3:prefix condition`);
            }
            const on = (action, arn) => granting(sts, action).some((st) => asList(st.s.resources).includes(`\${local.${arn}}`));
            if (on("s3:GetObject", "profile_objects_arn") && !lists(sts, "staging", "profile_prefix")) problems.push(`${f.address}: reads the profile but cannot list ${"${local.profile_prefix}"}* (a missing profile answers 403)`);
            if (on("s3:DeleteObject", "incoming_objects_arn") && !lists(sts, "input", "incoming_prefix")) problems.push(`${f.address}: moves sources out of incoming/ but cannot list ${"${local.incoming_prefix}"}* (an already moved source answers 403)`);
        }
        return problems;
    },

    /**
      * The database access contract (docs/infrastructure.md, "Database access"): which function
      * connects as whom, read from each function's environment. Every database function gets the
      * location and the CA bundle; the application functions a role name (IAM auth, no secret);
      * only migrate the master secret's ARN and the connection limit; never both.
      */
    "database environment per the access contract": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        const users = { consolidation: "dataprocess_app", record_failure: "dataprocess_app", replay_check: "dataprocess_app", run_status: "dataprocess_readonly" };
        const problems = [];
        for (const f of fns) {
            const vars = environmentOf(config, f).variables;
            if (!vars) { problems.push(`${f.address}: environment keys not statically known`); continue; }
            const value = (name) => environmentValue(config, f, name);
            const database = "DATAPROCESS_DB_HOST" in vars;
            const expectedUser = users[f.key];
            if (!database) {
                if (expectedUser || f.key === "migrate") problems.push(`${f.address}: no DATAPROCESS_DB_HOST (it reaches the database)`);
                for (const v of Object.keys(vars).filter((k) => k.startsWith("DATAPROCESS_DB_"))) problems.push(`${f.address}: ${v} without a database to reach`);
                continue;
            }
            for (const v of ["DATAPROCESS_DB_PORT", "DATAPROCESS_DB_NAME"]) if (!(v in vars)) problems.push(`${f.address}: no ${v}`);
            if (value("DATAPROCESS_DB_SSL_ROOT_CERT") !== "rds-ca-bundle.pem") problems.push(`${f.address}: DATAPROCESS_DB_SSL_ROOT_CERT is ${JSON.stringify(value("DATAPROCESS_DB_SSL_ROOT_CERT"))}, not the shipped rds-ca-bundle.pem (the server certificate would not be verified)`);
            if (!block(f.body, "vpc_config")) problems.push(`${f.address}: reaches the database from outside the VPC`);
            const user = value("DATAPROCESS_DB_USER");
            const secret = "DATAPROCESS_DB_SECRET_ID" in vars;
            if (user !== undefined && secret) problems.push(`${f.address}: both DATAPROCESS_DB_USER and DATAPROCESS_DB_SECRET_ID (a configuration error)`);
            if (f.key === "migrate") {
                if (!secret) problems.push(`${f.address}: no DATAPROCESS_DB_SECRET_ID (migrations run as the master user)`);
                if (!("DATAPROCESS_DB_CONNECTION_LIMIT" in vars)) problems.push(`${f.address}: no DATAPROCESS_DB_CONNECTION_LIMIT (the application role's cap on connections)`);
            } else {
                if (secret) problems.push(`${f.address}: DATAPROCESS_DB_SECRET_ID: only the migrate function holds the master secret`);
                if (user !== expectedUser) problems.push(`${f.address}: DATAPROCESS_DB_USER is ${JSON.stringify(user)}, expected ${JSON.stringify(expectedUser)}`);
                if ("DATAPROCESS_DB_CONNECTION_LIMIT" in vars) problems.push(`${f.address}: DATAPROCESS_DB_CONNECTION_LIMIT is the migrate function's`);
            }
        }
        return problems;
    },

    /**
      * The master secret (GetSecretValue on the cluster's managed secret) is in exactly one role's
      * policies: the migrate function's. The SSM reference path is only for roles that read a secret.
      */
    "only the migrate role reads the master secret": (config) => {
        const master = "${aws_rds_cluster.this.master_user_secret[0].secret_arn}";
        const migrate = lambdaFunctions(config).find((f) => f.key === "migrate");
        const problems = [];
        if (!migrate) return ["no migrate function: someone must migrate the schema as the master user"];
        const roles = instances(config, "aws_iam_role").map((r) => r.address);
        const readers = roles.filter((role) => granting(roleStatements(config, role), "secretsmanager:GetSecretValue").some((st) => asList(st.s.resources).includes(master)));
        if (JSON.stringify(readers) !== JSON.stringify([roleOf(migrate)])) problems.push(`roles that read the master secret: [${readers}], expected [${roleOf(migrate)}]`);
        for (const role of roles) {
            const sts = roleStatements(config, role);
            if (granting(sts, "ssm:GetParameter").some((st) => asList(st.s.resources).includes("${local.ssm_secret_reference_arn}")) && granting(sts, "secretsmanager:GetSecretValue").length === 0) {
                problems.push(`${role}: may read secret references but no secret (a leftover grant)`);
            }
        }
        return problems;
    },

    /**
      * Every application role's rds-db:connect names exactly one database user of this cluster,
      * the one its function connects as (DATAPROCESS_DB_USER); a function without one has none.
      */
    "every app role's rds-db:connect is scoped to one database user": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        const prefix = resolveValue(config, "arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${aws_rds_cluster.this.cluster_resource_id}/");
        return fns.flatMap((f) => {
            const user = environmentValue(config, f, "DATAPROCESS_DB_USER");
            const grants = granting(functionStatements(config, f), "rds-db:connect");
            const resources = grants.flatMap((st) => asList(st.s.resources).map((r) => resolveValue(config, r)));
            if (user === undefined) return grants.length ? [`${f.address}: rds-db:connect without a DATAPROCESS_DB_USER to connect as`] : [];
            if (resources.length === 0) return [`${f.address}: connects as ${user} without rds-db:connect`];
            return resources.filter((r) => r !== `${prefix}${user}`).map((r) => `${f.address}: rds-db:connect on ${r}, expected exactly ${prefix}${user}`);
        });
    },

    /**
      * The schema migrates on apply: an aws_lambda_invocation of the migrate function re-runs when
      * its code or settings change, and the aliases (new code) move only after it.
      */
    "migrations run on apply, before new code goes live": (config) => {
        const invocations = resources(config, "aws_lambda_invocation").filter((i) => references(i.body.function_name, 'aws_lambda_function.this["migrate"].'));
        if (invocations.length !== 1) return [`${invocations.length} aws_lambda_invocation of the migrate function, expected 1`];
        const [invocation] = invocations;
        const problems = [];
        const triggers = JSON.stringify(invocation.body.triggers ?? {});
        if (!triggers.includes('aws_lambda_function.this[\\"migrate\\"].source_code_hash')) problems.push(`aws_lambda_invocation.${invocation.name}: triggers do not include the migrate function's source_code_hash`);
        if (!triggers.includes("local.function_environments.migrate")) problems.push(`aws_lambda_invocation.${invocation.name}: triggers do not include the migrate function's settings`);
        for (const a of resources(config, "aws_lambda_alias")) {
            if (!asList(a.body.depends_on).includes(`\${aws_lambda_invocation.${invocation.name}}`)) problems.push(`aws_lambda_alias.${a.name}: may move before the migration ran`);
        }
        return problems;
    },

    /** Each function runs with a role of its own (no two functions share one, so none borrows rights). */
    "one role per function": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        const byRole = new Map();
        for (const f of fns) {
            const role = roleOf(f);
            if (!role) { byRole.set(`${f.address}.role`, [f.key]); continue; }
            byRole.set(role, [...(byRole.get(role) ?? []), f.key]);
        }
        return [...byRole].filter(([role, keys]) => keys.length > 1 || role.endsWith(".role"))
            .map(([role, keys]) => (role.endsWith(".role") ? `${role}: not an aws_iam_role of the configuration` : `${role}: shared by [${keys}]`));
    },

    /**
      * kms:GenerateDataKey (a new data key: writing an SSE-KMS object) only for functions whose role
      * may write objects; reading needs kms:Decrypt alone.
      */
    "data keys only for functions that write objects": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        return fns.filter((f) => {
            const sts = functionStatements(config, f);
            return granting(sts, "kms:GenerateDataKey").length > 0 && granting(sts, "s3:PutObject").length === 0;
        }).map((f) => `${f.address}: kms:GenerateDataKey without any s3:PutObject`);
    },

    /** Every lifecycle rule names its filter: an empty `filter {}` plans a change on every apply. */
    "lifecycle rules have an explicit filter": (config) => resources(config, "aws_s3_bucket_lifecycle_configuration").flatMap((lc) =>
        blocks(lc.body, "rule").flatMap((r) => {
            const filter = blocks(r, "filter");
            if (filter.length === 0) return [`aws_s3_bucket_lifecycle_configuration.${lc.name} rule ${r.id}: no filter`];
            return filter.some((f) => Object.keys(f).length === 0) ? [`aws_s3_bucket_lifecycle_configuration.${lc.name} rule ${r.id}: empty filter {} (use filter { prefix = "" } for the whole bucket)`] : [];
        })),

    /**
      * Log groups that services deliver to through a CloudWatch Logs resource policy (Step
      * Functions execution logs, API Gateway access logs) are under /aws/vendedlogs/, which keeps
      * that policy under its size limit.
      */
    "vended logs go to /aws/vendedlogs/ log groups": (config) => {
        const destinations = [
            ...resources(config, "aws_sfn_state_machine").map((m) => [`aws_sfn_state_machine.${m.name}`, block(m.body, "logging_configuration")?.log_destination]),
            ...resources(config, "aws_apigatewayv2_stage").map((s) => [`aws_apigatewayv2_stage.${s.name}`, block(s.body, "access_log_settings")?.destination_arn]),
        ].filter(([, d]) => d !== undefined);
        return destinations.flatMap(([where, destination]) => {
            const group = String(destination).match(/aws_cloudwatch_log_group\.([A-Za-z0-9_]+)\./);
            const name = group && resource(config, "aws_cloudwatch_log_group", group[1])?.body.name;
            return typeof name === "string" && name.startsWith("/aws/vendedlogs/") ? [] : [`${where}: logs to ${group ? `aws_cloudwatch_log_group.${group[1]} (${name})` : destination}, not a /aws/vendedlogs/ log group`];
        });
    },

    /**
      * A function in the VPC is created after the endpoints it calls from its first invocation and
      * its role's policy, and a destroy swaps its security groups first (replace_security_groups_on_destroy),
      * so Lambda's ENIs do not hold the functions' security group for 20-40 minutes.
      */
    "VPC functions wait for the endpoints and let go of their security groups on destroy": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        const endpoints = resources(config, "aws_vpc_endpoint").map((e) => `\${aws_vpc_endpoint.${e.name}}`);
        return fns.filter((f) => block(f.body, "vpc_config")).flatMap((f) => {
            const dependsOn = asList(f.body.depends_on);
            return [
                ...endpoints.filter((e) => !dependsOn.includes(e)).map((e) => `${f.address}: does not depend on ${e.slice(2, -1)}`),
                ...(dependsOn.some((d) => d.startsWith("${aws_iam_role_policy.")) ? [] : [`${f.address}: does not depend on its role's policy`]),
                ...(isTrue(f.body.replace_security_groups_on_destroy) ? [] : [`${f.address}: replace_security_groups_on_destroy is not true`]),
            ];
        });
    },

    /** Lambda's REPORT line (duration, billed time, memory) is an INFO system log: keep it. */
    "Lambda system logs keep the REPORT lines": (config) => lambdaFunctions(config)
        .filter((f) => !["INFO", "DEBUG", "TRACE"].includes(block(f.body, "logging_config")?.system_log_level ?? "INFO"))
        .map((f) => `${f.address}: system_log_level ${block(f.body, "logging_config").system_log_level} drops the REPORT lines (use INFO)`),

    /**
      * List calls are authorised on the resources they list, not on the one the caller later uses:
      * scoped to one resource they are denied.
      */
    "list calls are not scoped to one resource": (config) => {
        const listCalls = ["logs:DescribeLogGroups", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"];
        return statements(config).flatMap(({ doc, sid, effect, s }) => {
            if (effect !== "Allow") return [];
            return asList(s.actions).filter((a) => listCalls.includes(a)).flatMap((a) =>
                asList(s.resources).filter((r) => !String(r).endsWith("*")).map((r) => `data.aws_iam_policy_document.${doc} ${sid}: ${a} scoped to ${r} (a list call needs the account's resources)`));
        });
    },

    "reserved concurrency only from variables defaulting to none": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        return fns.flatMap((f) => {
            const value = f.body.reserved_concurrent_executions;
            if (value === undefined || value === null) return [];
            const variable = typeof value === "string" && value.match(/^\$\{var\.([A-Za-z0-9_]+)\}$/);
            if (!variable) return [`${f.address}: reserved_concurrent_executions = ${JSON.stringify(value)} is not a variable (a fixed reservation can exceed the account's quota)`];
            const v = config.variables[variable[1]];
            if (!v) return [`${f.address}: variable ${variable[1]} is not declared`];
            return v.default === null ? [] : [`${f.address}: variable ${variable[1]} defaults to ${JSON.stringify(v.default)}, not null (no reservation)`];
        });
    },

    /**
      * Every function publishes a version and has an alias on it; every caller (the workflow's
      * Tasks, the state machine's invoke grant, the HTTP API integrations and permissions) names the
      * alias, so a bad deploy rolls back by moving the alias.
      */
    "functions are published and invoked through their aliases": (config) => {
        const { fns, unreadable } = readableFunctions(config);
        if (unreadable.length) return unreadable;
        const problems = [];
        const aliases = instances(config, "aws_lambda_alias");
        const alias = /^\$\{aws_lambda_alias\.[A-Za-z0-9_]+(\["[a-z0-9_]+"\])?\.(arn|invoke_arn|name)\}$/;
        for (const f of fns) {
            if (!isTrue(f.body.publish)) problems.push(`${f.address}: publish is not true (no version to roll back to)`);
            if (!aliases.some((a) => a.body.function_version === `\${${f.address}.version}`)) problems.push(`${f.address}: no aws_lambda_alias on its published version`);
        }
        for (const binding of templatefileBindings(config)) {
            for (const [name, value] of Object.entries(binding.values)) {
                if (name.endsWith("_function_arn") && !alias.test(value)) problems.push(`${binding.where}: ${name} = ${value} is not an alias ARN`);
            }
        }
        for (const { doc, sid, effect, s } of statements(config)) {
            if (effect !== "Allow" || !asList(s.actions).includes("lambda:InvokeFunction")) continue;
            for (const r of asList(s.resources)) if (!alias.test(r)) problems.push(`data.aws_iam_policy_document.${doc} ${sid}: lambda:InvokeFunction on ${r}, not an alias`);
        }
        for (const i of resources(config, "aws_apigatewayv2_integration")) {
            if (references(i.body.integration_uri, "aws_lambda_") && !alias.test(i.body.integration_uri)) problems.push(`aws_apigatewayv2_integration.${i.name}: integration_uri ${i.body.integration_uri} is not an alias`);
        }
        for (const p of resources(config, "aws_lambda_permission")) {
            if (!alias.test(p.body.qualifier ?? "")) problems.push(`aws_lambda_permission.${p.name}: no alias qualifier (the permission would not cover the alias the API invokes)`);
        }
        return problems;
    },
});

/** Runs every rule (or the named ones): { rule: [violations] }. */
export function runRules(config, names = Object.keys(rules)) {
    return Object.fromEntries(names.map((n) => [n, rules[n](config)]));
}

export { resolveLocal };
