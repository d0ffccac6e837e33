import assert from "node:assert/strict";
import { test } from "node:test";
import aslValidatorModule from "asl-validator";
import { allStates, placeholders, readWorkflow, renderWorkflow, stateMachines, templatefileBindings } from "../lib/asl.mjs";
import { loadConfig } from "../lib/terraform.mjs";

const aslValidator = aslValidatorModule.default ?? aslValidatorModule;
const config = await loadConfig();
const template = readWorkflow();
const bindings = templatefileBindings(config);
const vars = bindings[0]?.vars ?? [];
const definition = JSON.parse(renderWorkflow(template, vars));
const states = allStates(definition);
const state = (name) => states.find((s) => s.name === name)?.state;

const TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "DataProcess.TransientException",
];

test("the state machine's definition is templatefile(workflow.asl.json) with one variable map", () => {
    assert.equal(stateMachines(config).length, 1);
    assert.equal(bindings.length, 1);
    assert.equal(bindings[0].where, "aws_sfn_state_machine.this.definition");
});

test("every ${…} in workflow.asl.json is bound by the templatefile map, and every binding is used", () => {
    const used = placeholders(template);
    assert.deepEqual(used.filter((p) => !vars.includes(p)), [], "unbound placeholders");
    assert.deepEqual(vars.filter((v) => !used.includes(v)), [], "unused bindings");
});

test("an unbound placeholder is caught", () => {
    const broken = template.replace("${consolidation_function_arn}", "${consolidate_fn}");
    assert.deepEqual(placeholders(broken).filter((p) => !vars.includes(p)), ["consolidate_fn"]);
    assert.throws(() => renderWorkflow(broken, vars), /unbound placeholder \$\{consolidate_fn\}/);
});

test("asl-validator passes on the rendered definition", () => {
    const { isValid, errorsText } = aslValidator(structuredClone(definition)); // it annotates its input
    assert.ok(isValid, errorsText?.("\n"));
});

test("asl-validator rejects a broken definition (the check has teeth)", () => {
    const broken = structuredClone(definition);
    broken.States.Consolidate.Next = "Nowhere";
    assert.equal(aslValidator(broken).isValid, false);
});

test("every Task Resource is a ${…_function_arn} placeholder (a plain Lambda ARN after rendering)", () => {
    const raw = allStates(JSON.parse(template.replace(/\$\{/g, "PLACEHOLDER{")));
    const tasks = raw.filter((s) => s.state.Type === "Task");
    assert.deepEqual(tasks.map((t) => t.name).sort(), ["Anonymization", "CheckReplay", "Consolidate", "Enrichment", "RecordFailure"]);
    for (const t of tasks) assert.match(t.state.Resource, /^PLACEHOLDER\{[a-z_]+_function_arn\}$/, t.path);
    for (const t of states.filter((s) => s.state.Type === "Task")) assert.match(t.state.Resource, /^arn:aws:lambda:[^:]+:\d{12}:function:[a-z0-9-]+$/);
});

test("the execution input's reprocess field defaults to false and must be a boolean, before DescribeRun", () => {
    assert.equal(definition.StartAt, "Defaults");
    assert.deepEqual(state("Defaults").Parameters, { defaults: { reprocess: false }, "input.$": "$" });
    assert.equal(state("Defaults").Next, "ApplyDefaults");
    assert.deepEqual(state("ApplyDefaults").Parameters, { "withDefaults.$": "States.JsonMerge($.defaults, $.input, false)" });
    assert.equal(state("ApplyDefaults").OutputPath, "$.withDefaults");
    assert.deepEqual(state("ReprocessIsBoolean").Choices, [{ Variable: "$.reprocess", IsBoolean: true, Next: "DescribeRun" }]);
    assert.equal(state("ReprocessIsBoolean").Default, "InvalidReprocess");
    assert.equal(state("InvalidReprocess").Type, "Fail");
});

test("the flow: DescribeRun → CheckReplay → Stages (Enrichment ∥ Anonymization) → Consolidate; a replay → Skipped; failures → RecordFailure → RunFailed", () => {
    assert.equal(state("DescribeRun").Type, "Pass");
    assert.equal(state("DescribeRun").Next, "CheckReplay");
    assert.equal(state("CheckReplay").Type, "Task");
    assert.equal(state("CheckReplay").ResultPath, "$.replay", "the check adds its answer and keeps the request");
    assert.equal(state("CheckReplay").Next, "AlreadyLoaded");
    assert.deepEqual(state("AlreadyLoaded").Choices, [{ Variable: "$.replay.alreadyLoaded", BooleanEquals: true, Next: "Skipped" }]);
    assert.equal(state("AlreadyLoaded").Default, "Stages");
    assert.equal(state("Skipped").Type, "Succeed");
    assert.equal(state("Skipped").OutputPath, "$.replay.summary", "a skipped run ends with a RunSummary, as Consolidate does");
    const stages = state("Stages");
    assert.equal(stages.Type, "Parallel");
    assert.deepEqual(stages.Branches.map((b) => b.StartAt), ["Enrichment", "Anonymization"]);
    assert.equal(stages.ResultPath, "$.stages");
    assert.equal(stages.Next, "Consolidate");
    assert.equal(state("Consolidate").End, true);
    assert.equal(state("RecordFailure").Next, "RunFailed");
    assert.equal(state("RunFailed").Type, "Fail");
});

test("every Catch leads to RecordFailure with the error at $.error, and CheckReplay, Stages and Consolidate catch everything", () => {
    const catchers = states.filter((s) => s.state.Catch);
    assert.deepEqual(catchers.map((s) => s.name).sort(), ["CheckReplay", "Consolidate", "Stages"]);
    for (const { path, state: s } of catchers) {
        for (const c of s.Catch) {
            assert.equal(c.Next, "RecordFailure", path);
            assert.equal(c.ResultPath, "$.error", path);
        }
        assert.ok(s.Catch.some((c) => c.ErrorEquals.includes("States.ALL")), `${path} catches States.ALL`);
    }
    assert.equal(state("RecordFailure").Catch, undefined, "the failure path does not loop");
});

test("DescribeRun builds the handlers' StageRequest from the EventBridge event (references only)", () => {
    assert.deepEqual(state("DescribeRun").Parameters, {
        "runId.$": "$.id",
        "startedAt.$": "$.time",
        source: { "bucket.$": "$.detail.bucket.name", "key.$": "$.detail.object.key" },
        "sourceETag.$": "$.detail.object.etag",
        profile: { bucket: "stand-in-profile-bucket", key: "stand-in-profile-key" },
        staging: { bucket: "stand-in-staging-bucket", prefix: "stand-in-staging-prefix" },
        "reprocess.$": "$.reprocess",
    });
});

test("RecordFailure receives the run request and the caught {Error, Cause}, nothing else", () => {
    assert.deepEqual(state("RecordFailure").Parameters, {
        "runId.$": "$.runId",
        "startedAt.$": "$.startedAt",
        "source.$": "$.source",
        "sourceETag.$": "$.sourceETag",
        "profile.$": "$.profile",
        "staging.$": "$.staging",
        "error.$": "$.error",
    });
});

test("every Task retries transient Lambda errors with exponential backoff and full jitter", () => {
    for (const { path, state: s } of states.filter((x) => x.state.Type === "Task")) {
        const retry = (s.Retry ?? []).find((r) => TRANSIENT.every((e) => r.ErrorEquals.includes(e)));
        assert.ok(retry, `${path} retries ${TRANSIENT.join(", ")}`);
        assert.ok(retry.BackoffRate > 1 && retry.MaxAttempts >= 3 && retry.IntervalSeconds >= 1, path);
        assert.equal(retry.JitterStrategy, "FULL", path);
        assert.ok(retry.MaxDelaySeconds > 0, path);
    }
});

test("Consolidate and RecordFailure wait out an Aurora auto-pause resume (DatabaseUnavailableException, longer backoff)", () => {
    for (const name of ["Consolidate", "RecordFailure"]) {
        const retry = state(name).Retry.find((r) => r.ErrorEquals.includes("DataProcess.DatabaseUnavailableException"));
        assert.ok(retry, name);
        assert.ok(retry.IntervalSeconds >= 10, `${name}: resume takes seconds`);
        let total = 0;
        for (let i = 0; i < retry.MaxAttempts; i++) total += Math.min(retry.IntervalSeconds * retry.BackoffRate ** i, retry.MaxDelaySeconds);
        assert.ok(total >= 120, `${name}: retries span ${total}s, at least 2 minutes`);
        assert.equal(retry.JitterStrategy, "FULL");
    }
});

test("the definition carries no record data: no literal payload beyond references and names", () => {
    const literals = [];
    const walk = (v, key) => {
        if (typeof v === "string" && !key?.endsWith(".$") && !["Type", "Next", "StartAt", "Resource", "Comment", "ResultPath", "Error", "Cause", "JitterStrategy"].includes(key)) literals.push(`${key}=${v}`);
        else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
        else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
    };
    walk(definition);
    const allowed = /^(ErrorEquals=(Lambda\.|DataProcess\.|States\.|[A-Za-z]+Exception$)|bucket=stand-in-|key=stand-in-|prefix=stand-in-|Default=Stages$|Default=InvalidReprocess$|OutputPath=\$\.withDefaults$|Variable=\$\.reprocess$|Variable=\$\.replay\.alreadyLoaded$|OutputPath=\$\.replay\.summary$)/;
    assert.deepEqual(literals.filter((l) => !allowed.test(l)), []);
});
