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
const definition = JSON.parse(renderWorkflow(template, vars, config.locals.function_alias));
const states = allStates(definition);
const state = (name) => states.find((s) => s.name === name)?.state;

// The Lambda service exceptions AWS recommends retrying (Step Functions best practices), and ours.
const TRANSIENT = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "DataProcess.TransientException",
];
const THROTTLED = "Lambda.TooManyRequestsException";
const LAMBDA_MAX_TIMEOUT = 900; // seconds, the most any function may be given (variables.tf validates it)

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

test("every Task Resource is a ${…_function_arn} placeholder (a plain Lambda alias ARN after rendering)", () => {
    const raw = allStates(JSON.parse(template.replace(/\$\{/g, "PLACEHOLDER{")));
    const tasks = raw.filter((s) => s.state.Type === "Task");
    assert.deepEqual(tasks.map((t) => t.name).sort(), ["Anonymization", "CheckReplay", "Consolidate", "Enrichment", "RecordFailure"]);
    for (const t of tasks) assert.match(t.state.Resource, /^PLACEHOLDER\{[a-z_]+_function_arn\}$/, t.path);
    for (const t of states.filter((s) => s.state.Type === "Task")) assert.match(t.state.Resource, /^arn:aws:lambda:[^:]+:\d{12}:function:[a-z0-9-]+:live$/);
});

test("the execution input's reprocess field defaults to false and must be a boolean, before anything else", () => {
    assert.equal(definition.StartAt, "Defaults");
    assert.deepEqual(state("Defaults").Parameters, { defaults: { reprocess: false }, "input.$": "$" });
    assert.equal(state("Defaults").Next, "ApplyDefaults");
    assert.deepEqual(state("ApplyDefaults").Parameters, { "withDefaults.$": "States.JsonMerge($.defaults, $.input, false)" });
    assert.equal(state("ApplyDefaults").OutputPath, "$.withDefaults");
    assert.deepEqual(state("ReprocessIsBoolean").Choices, [{ Variable: "$.reprocess", IsBoolean: true, Next: "CheckEvent" }]);
    assert.equal(state("ReprocessIsBoolean").Default, "InvalidReprocess");
    assert.equal(state("InvalidReprocess").Type, "Fail");
});

test("the flow: Defaults → CheckEvent → DescribeRun → CheckReplay → Stages (Enrichment ∥ Anonymization) → Consolidate; a replay → Skipped; failures → RecordFailure → RunFailed", () => {
    assert.equal(state("CheckEvent").Type, "Choice");
    assert.deepEqual(state("CheckEvent").Choices.map((c) => c.Next), ["DescribeRun", "DescribeKeyWithoutDataset", "DescribeMalformedEvent"]);
    assert.equal(state("CheckEvent").Default, "MalformedEvent");
    assert.equal(state("DescribeMalformedEvent").Next, "RecordFailure");
    assert.equal(state("DescribeKeyWithoutDataset").Next, "RecordFailure");
    assert.equal(state("MalformedEvent").Type, "Fail");
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
    assert.equal(state("DescribeRun").Catch, undefined, "a Pass state has no Catch: CheckEvent guards it instead");
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
        profile: { bucket: "stand-in-profile-bucket", "key.$": "States.Format('stand-in-profile-prefix{}.json', States.ArrayGetItem(States.StringSplit($.detail.object.key, '/'), 1))" },
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
        const names = s.Retry.flatMap((r) => r.ErrorEquals);
        assert.equal(names.length, new Set(names).size, `${path}: each error has one retrier`);
    }
});

/** Nominal delays of a retrier (before jitter): min(Interval × Backoff^k, MaxDelay) for each attempt. */
const delays = (r) => Array.from({ length: r.MaxAttempts }, (_, k) => Math.min(r.IntervalSeconds * r.BackoffRate ** k, r.MaxDelaySeconds ?? Infinity));
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

test("a throttled Task waits out the longest function's run: on average at least two 900 s runs before it gives up", () => {
    // FULL jitter waits a uniform [0, delay]: the expected wait is half the nominal one.
    for (const { path, state: s } of states.filter((x) => x.state.Type === "Task")) {
        const throttled = s.Retry.find((r) => r.ErrorEquals.includes(THROTTLED));
        assert.ok(throttled, `${path} retries ${THROTTLED}`);
        assert.deepEqual(throttled.ErrorEquals, [THROTTLED], `${path}: throttling has its own budget`);
        assert.equal(throttled.JitterStrategy, "FULL", `${path}: throttled runs do not retry in step`);
        const expected = sum(delays(throttled)) / 2;
        assert.ok(expected >= 2 * LAMBDA_MAX_TIMEOUT, `${path}: expected throttle wait ${expected}s < ${2 * LAMBDA_MAX_TIMEOUT}s`);
    }
    assert.equal(Math.max(...Object.values(config.variables.lambda_timeout_seconds.default)), LAMBDA_MAX_TIMEOUT, "the budget is computed for the default consolidation timeout");
});

test("the execution timeout bounds a hung run (a day) and never cuts a run its retries would finish", () => {
    // The longest path: every retry of every Task used, every attempt that runs taking 900 s
    // (throttled attempts do not run), the failure path at the end.
    const worst = (name) => {
        const s = state(name);
        const running = 1 + sum(s.Retry.filter((r) => !r.ErrorEquals.includes(THROTTLED)).map((r) => r.MaxAttempts));
        return running * LAMBDA_MAX_TIMEOUT + sum(s.Retry.flatMap(delays));
    };
    const longest = worst("CheckReplay") + Math.max(worst("Enrichment"), worst("Anonymization")) + worst("Consolidate") + worst("RecordFailure");
    assert.ok(definition.TimeoutSeconds >= longest, `TimeoutSeconds ${definition.TimeoutSeconds} < worst path ${longest}`);
    assert.ok(definition.TimeoutSeconds <= 86400, "a hung run ends within a day, not a year");
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
    const allowed = /^(ErrorEquals=(Lambda\.|DataProcess\.|States\.|[A-Za-z]+Exception$)|bucket=stand-in-|key=stand-in-|prefix=stand-in-|Default=(Stages|MalformedEvent|InvalidReprocess)$|StringMatches=incoming\/\*\/\*$|Variable=\$\.(replay\.alreadyLoaded|reprocess|id|time|detail\.bucket\.name|detail\.object\.key|detail\.object\.etag)$|OutputPath=\$\.(replay\.summary|withDefaults)$|sourceETag=unknown$)/;
    assert.deepEqual(literals.filter((l) => !allowed.test(l)), []);
});

/** Every path a state's Parameters read ("x.$": "$.a.b"), nested objects included. */
const parameterPaths = (parameters) => Object.entries(parameters ?? {}).flatMap(([k, v]) =>
    v && typeof v === "object" ? parameterPaths(v) : k.endsWith(".$") && String(v).startsWith("$.") ? [v] : []);

/** The problems of the CheckEvent guard: a path DescribeRun reads that is not tested for presence, then type. */
function guardProblems(def) {
    const guard = def.States.CheckEvent?.Choices?.find((c) => c.Next === "DescribeRun");
    if (!guard) return ["no CheckEvent choice leads to DescribeRun"];
    // ApplyDefaults puts reprocess in every input, so ReprocessIsBoolean's type test is its guard.
    const defaulted = Object.keys(def.States.Defaults?.Parameters?.defaults ?? {}).map((k) => `$.${k}`);
    const checks = [...(guard.And ?? [guard]), ...defaulted.flatMap((p) => [{ Variable: p, IsPresent: true }, ...(def.States.ReprocessIsBoolean?.Choices ?? [])])];
    return parameterPaths(def.States.DescribeRun.Parameters).flatMap((p) => {
        const at = checks.findIndex((c) => c.Variable === p && c.IsPresent === true);
        const typed = checks.findIndex((c) => c.Variable === p && Object.keys(c).some((k) => k.startsWith("Is") && k !== "IsPresent"));
        if (at < 0) return [`${p}: DescribeRun reads it, CheckEvent does not test IsPresent (a missing path is an uncatchable States.Runtime)`];
        return typed > at ? [] : [`${p}: no type test after its IsPresent`];
    });
}

test("CheckEvent tests every path DescribeRun reads, presence before type", () => {
    assert.deepEqual(parameterPaths(state("DescribeRun").Parameters).sort(), ["$.detail.bucket.name", "$.detail.object.etag", "$.detail.object.key", "$.id", "$.reprocess", "$.time"]);
    assert.deepEqual(guardProblems(definition), []);
});

test("broken definition: a DescribeRun path without its guard is caught", () => {
    const broken = structuredClone(definition);
    broken.States.CheckEvent.Choices[0].And = broken.States.CheckEvent.Choices[0].And.filter((c) => c.Variable !== "$.detail.object.etag");
    assert.deepEqual(guardProblems(broken), ["$.detail.object.etag: DescribeRun reads it, CheckEvent does not test IsPresent (a missing path is an uncatchable States.Runtime)"]);
});

// The guard on the local engine, RecordFailure answered by a stand-in that keeps its input.
async function runOnEngine(input, handlers = {}) {
    if (typeof Promise.withResolvers !== "function") {
        Promise.withResolvers = function withResolvers() {
            let resolve; let reject;
            const promise = new this((res, rej) => { resolve = res; reject = rej; });
            return { promise, resolve, reject };
        };
    }
    const { StateMachine } = await import("aws-local-stepfunctions");
    const recorded = [];
    const machine = new StateMachine(structuredClone(definition), { validationOptions: { checkPaths: true } });
    const fail = () => { throw new Error("no Lambda in this test"); };
    const execution = machine.run(input, {
        overrides: {
            taskResourceLocalHandlers: {
                RecordFailure: (payload) => { recorded.push(payload); return { runId: payload.runId, status: "failed" }; },
                CheckReplay: fail, Enrichment: fail, Anonymization: fail, Consolidate: fail,
                ...handlers,
            },
        },
    });
    try {
        await execution.result;
        return { status: "SUCCEEDED", recorded };
    } catch (error) {
        return { status: "FAILED", error: (error.getCause?.() ?? error.cause)?.name ?? error.name, recorded };
    }
}

test("an event that names its source but lacks the rest reaches RecordFailure with a complete RunFailure", async () => {
    const run = await runOnEngine({ id: "not-checked", time: "2026-11-27T08:00:00Z", detail: { bucket: { name: "in" }, object: { key: "incoming/x.json" } } });
    assert.equal(run.status, "FAILED");
    assert.equal(run.error, "DataProcess.RunFailed");
    assert.equal(run.recorded.length, 1);
    const failure = run.recorded[0];
    assert.match(failure.runId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(!Number.isNaN(Date.parse(failure.startedAt)), failure.startedAt);
    assert.deepEqual({ ...failure, runId: undefined, startedAt: undefined }, {
        runId: undefined,
        startedAt: undefined,
        source: { bucket: "in", key: "incoming/x.json" },
        sourceETag: "unknown",
        profile: { bucket: "stand-in-profile-bucket", key: "stand-in-profile-prefix" },
        staging: { bucket: "stand-in-staging-bucket", prefix: "stand-in-staging-prefix" },
        error: { Error: "DataProcess.MalformedEvent", Cause: state("DescribeMalformedEvent").Parameters.error.Cause },
    });
});

test("an input that names no source fails the execution at once, as DataProcess.MalformedEvent", async () => {
    const run = await runOnEngine({ hello: "world" });
    assert.deepEqual(run, { status: "FAILED", error: "DataProcess.MalformedEvent", recorded: [] });
});

test("the local engine invokes every Task state of the rendered workflow the way Step Functions does (none left to the engine's own client)", async () => {
    const { lambdaTaskHandlers } = await import("../lib/lambda-task.mjs");
    const tasks = states.filter((s) => s.state.Type === "Task").map((s) => s.name).sort();
    const handlers = lambdaTaskHandlers(definition, { region: "us-east-1", endpoint: "http://127.0.0.1:9" });
    assert.ok(tasks.length >= 5, `found Task states: ${tasks}`);
    assert.deepEqual(Object.keys(handlers).sort(), tasks);
});

test("a failed Invoke call is named Lambda.<code> and a function error by its errorType with the payload as Cause, as Step Functions names them", async () => {
    const { functionError, serviceError } = await import("../lib/lambda-task.mjs");
    const throttle = Object.assign(new Error("Rate Exceeded."), { name: "TooManyRequestsException", $metadata: { httpStatusCode: 429, requestId: "r-1" } });
    assert.equal(serviceError(throttle).name, THROTTLED);
    assert.equal(serviceError(throttle).message, "Rate Exceeded. (Service: Lambda, Status Code: 429, Request ID: r-1)");
    const payload = '{"errorType":"DatabaseUnavailableException","errorMessage":"the database did not answer"}';
    assert.equal(functionError(payload).name, "DatabaseUnavailableException");
    assert.equal(functionError(payload).message, payload);
    assert.equal(functionError("Segmentation fault").name, "Lambda.Unknown");
});

const completeEvent = (key) => ({ id: "7c1d6f5e-0000-4000-8000-000000000001", time: "2026-11-27T08:00:00Z", detail: { bucket: { name: "in" }, object: { key, etag: "abc" } } });

test("DescribeRun reads the profile of the key's dataset: incoming/<dataset>/… → profiles/<dataset>.json", async () => {
    for (const [key, dataset] of [["incoming/orders/2026/11/27/u1/o.ndjson", "orders"], ["incoming/customers/c.json", "customers"], ["incoming/2026/11/27/u2/old.json", "2026"]]) {
        const asked = [];
        const run = await runOnEngine(completeEvent(key), { CheckReplay: (payload) => { asked.push(payload.profile); throw new Error("stop here"); } });
        assert.deepEqual(asked, [{ bucket: "stand-in-profile-bucket", key: `stand-in-profile-prefix${dataset}.json` }], key);
        assert.equal(run.recorded.length, 1, "the failed CheckReplay goes to the failure path");
    }
});

test("a complete event whose key has no dataset segment is recorded by the failure path as DataProcess.NoDataset, never reaching the stages", async () => {
    for (const key of ["incoming/x.json", "elsewhere/orders/x.json"]) {
        const run = await runOnEngine(completeEvent(key));
        assert.equal(run.status, "FAILED", key);
        assert.equal(run.error, "DataProcess.RunFailed", key);
        assert.equal(run.recorded.length, 1, key);
        assert.deepEqual(run.recorded[0].error, { Error: "DataProcess.NoDataset", Cause: state("DescribeKeyWithoutDataset").Parameters.error.Cause });
        assert.deepEqual(run.recorded[0].source, { bucket: "in", key });
        assert.equal(run.recorded[0].runId, "7c1d6f5e-0000-4000-8000-000000000001");
    }
});
