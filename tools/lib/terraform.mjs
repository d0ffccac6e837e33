// Loads the Terraform configuration at the repository root with HashiCorp's HCL parser (npm
// @cdktf/hcl2json, the Go parser compiled to WASM) into a small model the checks work on.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export class HclSyntaxError extends Error {
    constructor(file, line, column, detail) {
        super(`${file}:${line}:${column}: ${detail}`);
        this.file = file;
        this.line = line;
        this.column = column;
        this.detail = detail;
    }
}

/** Parses one file's text; a syntax error becomes an HclSyntaxError naming file and line. */
export async function parseHcl(file, text) {
    try {
        return await parse(file, text);
    } catch (error) {
        const message = String(error?.message ?? error);
        // hcl2json: "parse config: [main.tf:2,7-3,1: Invalid expression; Expected ...]"
        const m = message.match(/\[?([^\s[:]+):(\d+),(\d+)(?:-[\d,]+)?: ([^\]]*)\]?/);
        if (m) throw new HclSyntaxError(m[1], Number(m[2]), Number(m[3]), m[4].trim());
        throw new HclSyntaxError(file, 0, 0, message);
    }
}

/** The .tf files of a directory, sorted. */
export function terraformFiles(dir = repoRoot) {
    return readdirSync(dir).filter((f) => f.endsWith(".tf")).sort().map((f) => path.join(dir, f));
}

/**
  * Parses every .tf file of `dir` into:
  *   { dir, files: [{file, text, json}], blocks: [{kind, type, name, body, file}],
  *     locals: {name: value}, variables: {name: body}, outputs: {name: body} }
  * kind is "resource", "data" or "ephemeral". Bodies are hcl2json's JSON: nested blocks are arrays
  * of objects, expressions are strings like "${aws_s3_bucket.input.id}".
  */
export async function loadConfig(dir = repoRoot) {
    const files = [];
    const blocks = [];
    const locals = {};
    const variables = {};
    const outputs = {};
    for (const file of terraformFiles(dir)) {
        const text = readFileSync(file, "utf8");
        const json = await parseHcl(path.basename(file), text);
        files.push({ file, text, json });
        for (const kind of ["resource", "data", "ephemeral"]) {
            for (const [type, byName] of Object.entries(json[kind] ?? {})) {
                for (const [name, bodies] of Object.entries(byName)) {
                    for (const body of bodies) blocks.push({ kind, type, name, body, file: path.basename(file) });
                }
            }
        }
        for (const l of json.locals ?? []) Object.assign(locals, l);
        for (const [name, bodies] of Object.entries(json.variable ?? {})) variables[name] = bodies[0];
        for (const [name, bodies] of Object.entries(json.output ?? {})) outputs[name] = bodies[0];
    }
    return { dir, files, blocks, locals, variables, outputs };
}

export const resources = (config, type) => config.blocks.filter((b) => b.kind === "resource" && (!type || b.type === type));
export const dataSources = (config, type) => config.blocks.filter((b) => b.kind === "data" && (!type || b.type === type));
export const resource = (config, type, name) => resources(config, type).find((b) => b.name === name);
export const policyDocument = (config, name) => dataSources(config, "aws_iam_policy_document").find((b) => b.name === name);

/** First element of a block list (hcl2json gives blocks as arrays), or undefined. */
export const block = (body, name) => (Array.isArray(body?.[name]) ? body[name][0] : undefined);
export const blocks = (body, name) => (Array.isArray(body?.[name]) ? body[name] : []);

/**
  * The text of an expression with every `local.x` it references expanded (recursively), so a scan
  * for references sees through locals.
  */
export function expandLocals(config, value, seen = new Set()) {
    let text = typeof value === "string" ? value : JSON.stringify(value ?? null);
    const refs = [...text.matchAll(/\blocal\.([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    for (const ref of refs) {
        if (seen.has(ref) || !(ref in config.locals)) continue;
        seen.add(ref);
        text += `\n/*local.${ref}=*/ ${expandLocals(config, config.locals[ref], seen)}`;
    }
    return text;
}

/** Does the expression (a string or value) reference `<prefix>` (e.g. "aws_s3_bucket.input.")? */
export const references = (value, prefix) => (typeof value === "string" ? value : JSON.stringify(value ?? null)).includes(prefix);

/** The default of a variable referenced as exactly "${var.x}", or undefined. */
export function variableDefault(config, expr) {
    const m = typeof expr === "string" && expr.match(/^\$\{var\.([A-Za-z0-9_]+)\}$/);
    return m ? config.variables[m[1]]?.default : undefined;
}

/** Resolves "${local.a.b}" / "${local.a[\"b\"]}" to the local's literal value when it is one. */
export function resolveLocal(config, expr) {
    const m = typeof expr === "string" && expr.match(/^\$\{local\.([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\["[^"]+"\])*)\}$/);
    if (!m) return undefined;
    let value = config.locals[m[1]];
    for (const part of m[2].matchAll(/\.([A-Za-z0-9_]+)|\["([^"]+)"\]/g)) value = value?.[part[1] ?? part[2]];
    return value;
}
