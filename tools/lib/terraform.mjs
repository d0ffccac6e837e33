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

// ---------------------------------------------------------------------------------------------
// Static reading of expressions: object literals, merge(), locals, and for_each instances.
// Nothing is evaluated that needs a provider: a value is either known from the text of the
// configuration or reported as not statically known.
// ---------------------------------------------------------------------------------------------

/** Splits expression text at top-level occurrences of `separator` (outside brackets and strings). */
export function splitTopLevel(text, separator = ",") {
    const parts = [];
    let depth = 0;
    let inString = false;
    let current = "";
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
            current += c;
            if (c === "\\") { current += text[++i] ?? ""; continue; }
            if (c === '"') inString = false;
            continue;
        }
        if (c === '"') { inString = true; current += c; continue; }
        if ("{[(".includes(c)) depth++;
        if ("}])".includes(c)) depth--;
        if (depth === 0 && text.startsWith(separator, i)) { parts.push(current); current = ""; i += separator.length - 1; continue; }
        current += c;
    }
    if (current.trim() !== "") parts.push(current);
    return parts.map((p) => p.trim()).filter((p) => p !== "");
}

/**
  * An HCL expression (raw text, as inside an object literal) in hcl2json's form: a quoted string
  * without interpolation → the string, true/false/null/numbers → themselves, anything else →
  * "${expr}" (a quoted template keeps its interpolations: "${local.name}-x").
  */
function normalizeExpression(text) {
    const t = text.trim();
    if (/^"(?:[^"\\]|\\.)*"$/.test(t)) return JSON.parse(t);
    if (t === "true" || t === "false") return t === "true";
    if (t === "null") return null;
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    return `\${${t}}`;
}

/** `{ A = x, "B" = y }` (text) → { A: "${x}", B: "${y}" }, or undefined when it is not an object literal. */
export function parseObjectLiteral(text) {
    const t = text.trim();
    if (!t.startsWith("{") || !t.endsWith("}")) return undefined;
    const entries = {};
    for (const line of splitTopLevel(t.slice(1, -1).replace(/\n/g, ","), ",")) {
        const [key, ...rest] = splitTopLevel(line, "=");
        if (rest.length === 0) return undefined;
        entries[key.replace(/^"|"$/g, "")] = normalizeExpression(rest.join("="));
    }
    return entries;
}

/** The expression inside "${...}" when the whole value is one interpolation, else undefined. */
export function soleExpression(value) {
    if (typeof value !== "string" || !value.startsWith("${") || !value.endsWith("}")) return undefined;
    let depth = 0;
    for (let i = 0; i < value.length; i++) {
        if (value.startsWith("${", i)) { depth++; i++; continue; }
        if (value[i] === "{") depth++;
        if (value[i] === "}") { depth--; if (depth === 0 && i !== value.length - 1) return undefined; }
    }
    return value.slice(2, -1).trim();
}

/**
  * A value as a static object { key: value } (values in hcl2json form), following `local.x`,
  * `local.x["k"]` / `local.x.k`, `merge(...)` of such, and object literals; undefined when the
  * keys cannot be told from the text.
  */
export function staticObject(config, value, seen = new Set()) {
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
    const expr = soleExpression(value);
    if (expr === undefined) return undefined;
    const local = resolveLocal(config, `\${${expr}}`);
    if (local !== undefined) {
        if (seen.has(expr)) return undefined;
        return staticObject(config, local, new Set([...seen, expr]));
    }
    const merge = expr.match(/^merge\(([\s\S]*)\)$/);
    if (merge) {
        const out = {};
        for (const arg of splitTopLevel(merge[1])) {
            const part = arg.startsWith("{") ? parseObjectLiteral(arg) : staticObject(config, `\${${arg}}`, seen);
            if (!part) return undefined;
            Object.assign(out, part);
        }
        return out;
    }
    return parseObjectLiteral(expr);
}

const lookupPath = (value, path) => path.split(".").filter(Boolean).reduce((v, p) => (v && typeof v === "object" ? v[p] : undefined), value);

/** A value in hcl2json form written into HCL expression text. */
function asExpression(value) {
    if (value === null || typeof value === "boolean" || typeof value === "number") return String(value);
    if (typeof value === "string") {
        const sole = soleExpression(value);
        if (sole !== undefined) return `(${sole})`;
        return value.includes("${") ? `"${value}"` : JSON.stringify(value);
    }
    return JSON.stringify(value);
}

/** Replaces each.key / each.value.<path> in a resource body with one for_each entry. */
function substituteEach(body, key, entry) {
    const visit = (v) => {
        if (Array.isArray(v)) return v.map(visit);
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
        if (typeof v !== "string" || !v.includes("each.")) return v;
        const whole = v.match(/^\$\{each\.value((?:\.[A-Za-z0-9_]+)*)\}$/);
        if (whole) return lookupPath(entry, whole[1]);
        if (v === "${each.key}") return key;
        return v
            .replace(/\$\{each\.value((?:\.[A-Za-z0-9_]+)*)\}/g, (_, p) => {
                const x = lookupPath(entry, p);
                return typeof x === "string" ? x : String(x);
            })
            .replace(/\$\{each\.key\}/g, key)
            .replace(/\beach\.value((?:\.[A-Za-z0-9_]+)*)/g, (_, p) => asExpression(lookupPath(entry, p)))
            .replace(/\beach\.key\b/g, JSON.stringify(key));
    };
    return visit(body);
}

/**
  * A `dynamic` block's for_each after substitution: true/false ? [...] : [...] or a list literal.
  * Returns the number of blocks it makes, or undefined when that is not statically known.
  */
function dynamicCount(forEach) {
    if (Array.isArray(forEach)) return forEach.length;
    const expr = soleExpression(forEach);
    if (expr === undefined) return undefined;
    const conditional = expr.match(/^\(?\s*(true|false)\s*\)?\s*\?([\s\S]*)$/);
    if (conditional) {
        const [whenTrue, whenFalse] = splitTopLevel(conditional[2], ":");
        const chosen = conditional[1] === "true" ? whenTrue : whenFalse;
        if (chosen === undefined) return undefined;
        if (/^\[\s*\]$/.test(chosen)) return 0;
        const list = chosen.match(/^\[([\s\S]*)\]$/);
        return list ? splitTopLevel(list[1]).length : undefined;
    }
    const list = expr.match(/^\[([\s\S]*)\]$/);
    return list ? splitTopLevel(list[1]).length : undefined;
}

/** Writes statically decidable dynamic blocks out as ordinary blocks (or drops them). */
function materializeDynamicBlocks(body) {
    if (!body.dynamic) return { body, undecided: [] };
    const out = { ...body };
    const dynamic = {};
    const undecided = [];
    for (const [name, dyns] of Object.entries(body.dynamic)) {
        for (const dyn of dyns) {
            const count = dynamicCount(dyn.for_each);
            if (count === undefined) { (dynamic[name] ??= []).push(dyn); undecided.push(name); continue; }
            if (count > 0) out[name] = [...(out[name] ?? []), ...Array.from({ length: count }, () => dyn.content?.[0] ?? {})];
        }
    }
    if (Object.keys(dynamic).length) out.dynamic = dynamic; else delete out.dynamic;
    return { body: out, undecided };
}

/**
  * Every instance of the resources (or data sources) of a type, as the rules should see them:
  *   { kind, type, name, key, address, body, file, unresolved? }
  * A block with `for_each` over a statically known map (a local, a literal) becomes one instance
  * per key, with each.key / each.value substituted and decidable dynamic blocks written out; a
  * block without for_each is one instance (key undefined). `unresolved` says why an instance
  * could not be read statically (a rule must then fail rather than guess).
  */
export function instances(config, type, kind = "resource") {
    return config.blocks.filter((b) => b.kind === kind && b.type === type).flatMap((b) => {
        const prefix = kind === "resource" ? "" : `${kind}.`;
        const base = { kind, type, name: b.name, file: b.file };
        if (b.body.for_each === undefined) {
            const { body, undecided } = materializeDynamicBlocks(b.body);
            return [{ ...base, key: undefined, address: `${prefix}${type}.${b.name}`, body, ...(undecided.length ? { unresolved: `dynamic ${undecided} not statically known` } : {}) }];
        }
        const map = staticObject(config, b.body.for_each);
        if (!map) return [{ ...base, key: undefined, address: `${prefix}${type}.${b.name}`, body: b.body, unresolved: `for_each ${JSON.stringify(b.body.for_each)} is not a static map` }];
        return Object.entries(map).map(([key, entry]) => {
            const { for_each: _, ...rest } = b.body;
            const { body, undecided } = materializeDynamicBlocks(substituteEach(rest, key, entry));
            return { ...base, key, address: `${prefix}${type}.${b.name}["${key}"]`, body, ...(undecided.length ? { unresolved: `dynamic ${undecided} not statically known` } : {}) };
        });
    });
}

/** The instance an address names ("aws_iam_role.function[\"x\"]", "data.aws_iam_policy_document.y"). */
export function instanceAt(config, address) {
    const m = address.match(/^(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\["([^"]+)"\])?$/);
    if (!m) return undefined;
    return instances(config, m[2], m[1] ? "data" : "resource").find((i) => i.name === m[3] && (i.key === m[4] || (m[4] === undefined && i.key === undefined)));
}

/** The address an expression like "${aws_iam_role.function[\"x\"].arn}" refers to, or undefined. */
export function addressOf(expr, type) {
    const sole = soleExpression(expr);
    const m = sole?.match(/^(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)(\["[^"]+"\])?\.[a-z_]+$/);
    if (!m || (type && m[2] !== type)) return undefined;
    return `${m[1] ?? ""}${m[2]}.${m[3]}${m[4] ?? ""}`;
}

/** A value with locals that hold plain strings resolved ("${local.a.b}" → its text), else the value. */
export function resolveValue(config, value, depth = 0) {
    if (depth > 10) return value;
    const local = resolveLocal(config, value);
    if (local !== undefined) return resolveValue(config, local, depth + 1);
    if (typeof value !== "string") return value;
    return value.replace(/\$\{local\.([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\["[^"]+"\])*)\}/g, (whole, name, parts) => {
        const v = resolveValue(config, `\${local.${name}${parts}}`, depth + 1);
        return typeof v === "string" && v !== `\${local.${name}${parts}}` ? v : whole;
    });
}
