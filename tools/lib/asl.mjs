// workflow.asl.json checks: placeholders against the templatefile() call in the Terraform, a
// rendering for asl-validator, and the structure of the failure path.
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot, resources } from "./terraform.mjs";

export const workflowPath = (dir = repoRoot) => path.join(dir, "workflow.asl.json");

/** Names of the ${...} placeholders in the template text. */
export const placeholders = (text) => [...new Set([...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]))].sort();

/**
  * The variables bound by `templatefile(".../workflow.asl.json", VARS)` in the configuration:
  * VARS is either `local.x` (an object local) or an inline object literal.
  */
export function templatefileBindings(config, template = "workflow.asl.json") {
    const calls = [];
    const visit = (value, where) => {
        if (typeof value === "string") {
            const re = new RegExp(String.raw`templatefile\(\s*"[^"]*${template.replace(".", "\\.")}"\s*,\s*`, "g");
            for (const m of value.matchAll(re)) calls.push({ where, rest: value.slice(m.index + m[0].length) });
        } else if (value && typeof value === "object") {
            for (const [k, v] of Object.entries(value)) visit(v, where ? `${where}.${k}` : k);
        }
    };
    for (const b of config.blocks) visit(b.body, `${b.type}.${b.name}`);
    for (const [k, v] of Object.entries(config.locals)) visit(v, `local.${k}`);
    return calls.map(({ where, rest }) => {
        const local = rest.match(/^local\.([A-Za-z0-9_]+)\s*\)/);
        if (local) {
            const value = config.locals[local[1]];
            if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${where}: local.${local[1]} is not an object`);
            return { where, vars: Object.keys(value).sort(), values: value };
        }
        if (rest.startsWith("{")) {
            // Top-level keys of an inline object literal: `{ a = x, "b" = y }`.
            let depth = 0; let body = "";
            for (const c of rest) { if ("{[(".includes(c)) depth++; if ("}])".includes(c)) depth--; body += c; if (depth === 0) break; }
            const keys = []; let d = 0; let token = "";
            for (const c of body.slice(1, -1)) {
                if ("{[(".includes(c)) d++; else if ("}])".includes(c)) d--;
                if (d === 0 && c === "=") { keys.push(token.trim().replace(/^"|"$/g, "").split(/[\s,]+/).pop()); token = ""; } else if (d === 0 && (c === "," || c === "\n")) token = ""; else token += c;
            }
            return { where, vars: keys.sort(), values: {} };
        }
        throw new Error(`${where}: cannot read the variables of the templatefile call`);
    });
}

/**
  * The ARN a `<name>_function_arn` placeholder stands for: the alias ARN of the function
  * `<prefix>-<name>` (what `aws_lambda_alias.<x>.arn` gives, function:<name>:<alias>).
  */
export const aliasArn = ({ region, account, prefix, alias }, placeholder) =>
    `arn:aws:lambda:${region}:${account}:function:${prefix}-${placeholder.replace(/_function_arn$/, "").replace(/_/g, "-")}:${alias}`;

/** Renders the template with stand-in values (what Terraform would put there). */
export function renderWorkflow(text, vars, alias = "live") {
    return text.replace(/\$\{([^}]*)\}/g, (_, name) => {
        if (!vars.includes(name)) throw new Error(`unbound placeholder \${${name}}`);
        if (name.endsWith("_function_arn")) return aliasArn({ region: "eu-west-1", account: "123456789012", prefix: "dataprocess-dev", alias }, name);
        return `stand-in-${name.replace(/_/g, "-")}`;
    });
}

/** Every state of the machine, nested Parallel/Map branches included: [{name, state, path}]. */
export function allStates(definition, prefix = "") {
    const out = [];
    for (const [name, state] of Object.entries(definition.States ?? {})) {
        out.push({ name, state, path: `${prefix}${name}` });
        for (const [i, branch] of (state.Branches ?? []).entries()) out.push(...allStates(branch, `${prefix}${name}.Branches[${i}].`));
        if (state.ItemProcessor ?? state.Iterator) out.push(...allStates(state.ItemProcessor ?? state.Iterator, `${prefix}${name}.ItemProcessor.`));
    }
    return out;
}

export const readWorkflow = (dir = repoRoot) => readFileSync(workflowPath(dir), "utf8");

/** The aws_sfn_state_machine definitions in the configuration. */
export const stateMachines = (config) => resources(config, "aws_sfn_state_machine");
