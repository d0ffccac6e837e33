#!/usr/bin/env node
// Reads `terraform show -json <plan>` on stdin and prints the reserved concurrency of the Lambda
// functions the plan keeps, for scripts/terraform.sh:
//   line 1: <planned total> <current total>   (current = what the functions reserve today)
//   line 2: <function>=<reservation> ...        (the planned reservations, for the message)
// A function without a reservation (null in the configuration, -1 in the provider) counts 0.
import { readFileSync } from "node:fs";

const reserved = (values) => Math.max(0, Number(values?.reserved_concurrent_executions ?? -1));

let plan;
try {
    plan = JSON.parse(readFileSync(0, "utf8"));
} catch (error) {
    console.error(`error: the plan is not JSON (${error.message})`);
    process.exit(1);
}
let planned = 0;
let current = 0;
const named = [];
for (const change of plan.resource_changes ?? []) {
    if (change.type !== "aws_lambda_function") continue;
    const { actions = [], before, after } = change.change ?? {};
    current += reserved(before);
    if (actions.includes("delete") && !actions.includes("create")) continue;
    const n = reserved(after);
    planned += n;
    if (n > 0) named.push(`${after?.function_name ?? change.address}=${n}`);
}
console.log(`${planned} ${current}`);
console.log(named.join(" "));
