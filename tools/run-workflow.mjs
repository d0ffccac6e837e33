#!/usr/bin/env node
// Executes workflow.asl.json on this machine with aws-local-stepfunctions, the Task states reaching
// the real handlers through a local Lambda Invoke endpoint (`dataprocess lambda-serve`).
//
//   AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:9001 node tools/run-workflow.mjs \
//     --event event.json --set profile_bucket=staging --set profile_prefix=profiles/ \
//     --set staging_bucket=staging [--set staging_prefix=staging]
//
// The placeholders are the ones Terraform's templatefile() call binds (read from the .tf files);
// function ARNs become the alias ARNs Terraform gives them,
// arn:aws:lambda:<region>:000000000000:function:dataprocess-local-<name>:<alias>.
// Prints one JSON line: {"status":"SUCCEEDED","output":...} or {"status":"FAILED","error":...,"cause":...}.
//
// Task states invoke Lambda the way Step Functions does, not the way the engine does by default
// (lib/lambda-task.mjs): one Invoke per attempt with no SDK retries, a function error named by its
// errorType with the payload as Cause, and a Lambda service error named Lambda.<code>, so the
// workflow's Retry on Lambda.TooManyRequestsException meets the throttle it is written for.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig } from "./lib/terraform.mjs";
import { aliasArn, readWorkflow, templatefileBindings } from "./lib/asl.mjs";
import { lambdaTaskHandlers } from "./lib/lambda-task.mjs";

// aws-local-stepfunctions 3 targets Node 22; Promise.withResolvers is the one API it needs from it.
if (typeof Promise.withResolvers !== "function") {
    Promise.withResolvers = function withResolvers() {
        let resolve;
        let reject;
        const promise = new this((res, rej) => { resolve = res; reject = rej; });
        return { promise, resolve, reject };
    };
}

const { values } = parseArgs({
    options: {
        event: { type: "string" },
        set: { type: "string", multiple: true, default: [] },
        region: { type: "string", default: process.env.AWS_REGION ?? "us-east-1" },
    },
});
if (!values.event) {
    console.error("usage: run-workflow.mjs --event FILE [--set name=value ...]");
    process.exit(2);
}
if (!process.env.AWS_ENDPOINT_URL_LAMBDA) {
    console.error("AWS_ENDPOINT_URL_LAMBDA is not set: start `dataprocess lambda-serve` and point it there");
    process.exit(2);
}

const given = Object.fromEntries(values.set.map((pair) => {
    const at = pair.indexOf("=");
    if (at < 1) { console.error(`--set ${pair}: expected name=value`); process.exit(2); }
    return [pair.slice(0, at), pair.slice(at + 1)];
}));
given.staging_prefix ??= "staging";

const config = await loadConfig();
const [binding] = templatefileBindings(config);
const target = { region: values.region, account: "000000000000", prefix: "dataprocess-local", alias: config.locals.function_alias };
const text = readWorkflow().replace(/\$\{([^}]*)\}/g, (_, name) => {
    if (!binding.vars.includes(name)) throw new Error(`unbound placeholder \${${name}}`);
    if (name.endsWith("_function_arn")) return aliasArn(target, name);
    if (!(name in given)) throw new Error(`no value for \${${name}}: pass --set ${name}=...`);
    return given[name];
});

const { StateMachine, ExecutionError } = await import("aws-local-stepfunctions");
const machine = new StateMachine(JSON.parse(text), {
    awsConfig: { region: values.region, credentials: { accessKeys: { accessKeyId: "local", secretAccessKey: "local" } } },
});
const event = JSON.parse(readFileSync(values.event, "utf8"));
const overrides = { taskResourceLocalHandlers: lambdaTaskHandlers(JSON.parse(text), { region: values.region, endpoint: process.env.AWS_ENDPOINT_URL_LAMBDA }) };
try {
    const output = await machine.run(event, { overrides }).result;
    console.log(JSON.stringify({ status: "SUCCEEDED", output }));
} catch (error) {
    if (ExecutionError && !(error instanceof ExecutionError)) throw error;
    const cause = error.getCause?.() ?? error.cause;
    console.log(JSON.stringify({ status: "FAILED", error: cause?.name ?? error.name, cause: cause?.message ?? error.message }));
}
