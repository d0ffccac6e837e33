// The Lambda functions and their IAM as the rules see them: one entry per function instance
// (the for_each of aws_lambda_function expanded, see terraform.mjs), its environment as a static
// map, its role, and the statements of every policy attached to that role (source documents
// included). Everything is read from the configuration's text; what cannot be told statically is
// reported, never guessed.
import { addressOf, block, blocks, expandLocals, instanceAt, instances, resolveValue, soleExpression, staticObject } from "./terraform.mjs";

/** Every aws_lambda_function instance: { key, address, body, ... } (key = for_each key or block name). */
export const lambdaFunctions = (config) => instances(config, "aws_lambda_function").map((f) => ({ ...f, key: f.key ?? f.name }));

/** The function instance with this key, or undefined. */
export const lambdaFunction = (config, key) => lambdaFunctions(config).find((f) => f.key === key);

/**
  * A function's environment variables: { variables: {NAME: value}, text } where values are in
  * hcl2json form (a literal string, or "${expr}"); variables is undefined when the keys cannot be
  * told statically. text is the environment with every local it uses expanded (for scans).
  */
export function environmentOf(config, fn) {
    const expr = block(fn.body, "environment")?.variables;
    const variables = expr === undefined ? {} : staticObject(config, expr);
    const text = variables ? expandLocals(config, variables) : expandLocals(config, expr);
    return { variables, text };
}

/** A variable's value with plain-string locals resolved (e.g. "${local.db_app_user}" → "dataprocess_app"). */
export const environmentValue = (config, fn, name) => resolveValue(config, environmentOf(config, fn).variables?.[name]);

/** The address of the role a function runs with ("aws_iam_role.function[\"x\"]"), or undefined. */
export const roleOf = (fn) => addressOf(fn.body.role, "aws_iam_role");

/** The aws_iam_policy_document instance a policy expression names (through locals), or undefined. */
export function documentOf(config, expr) {
    const resolved = resolveValue(config, expr);
    const address = addressOf(resolved, "aws_iam_policy_document");
    if (!address || !resolved.endsWith(".json}")) return undefined;
    // data.aws_iam_policy_document.x[...] of a for_each document without a static key: its block.
    return instanceAt(config, address) ?? instanceAt(config, address.replace(/\[[^\]]*\]$/, ""))
        ?? instances(config, "aws_iam_policy_document", "data").find((d) => address.startsWith(`data.aws_iam_policy_document.${d.name}[`));
}

/**
  * The statements of a policy document, with those of its source_policy_documents and
  * override_policy_documents: [{ doc, sid, effect, s }] (doc = the address that holds the statement).
  */
export function documentStatements(config, doc, seen = new Set()) {
    if (!doc || seen.has(doc.address)) return [];
    seen.add(doc.address);
    const own = blocks(doc.body, "statement").map((s, i) => ({ doc: doc.address, sid: s.sid ?? `#${i}`, effect: s.effect ?? "Allow", s }));
    const sources = ["source_policy_documents", "override_policy_documents"].flatMap((k) => asList(doc.body[k]));
    return [...own, ...sources.flatMap((expr) => documentStatements(config, documentOf(config, expr), seen))];
}

/** The aws_iam_role_policy instances attached to a role address. */
export const rolePolicies = (config, role) => instances(config, "aws_iam_role_policy")
    .filter((p) => addressOf(p.body.role, "aws_iam_role") === role);

/** Every statement a role is granted through its inline policies (documents resolved), with the policy address. */
export const roleStatements = (config, role) => rolePolicies(config, role).flatMap((p) =>
    documentStatements(config, documentOf(config, p.body.policy)).map((st) => ({ ...st, policy: p.address })));

/** Every statement a function's role is granted. */
export const functionStatements = (config, fn) => (roleOf(fn) ? roleStatements(config, roleOf(fn)) : []);

/** Allow statements of a statement list that grant `action` (exactly, no wildcards exist). */
export const granting = (statements, action) => statements.filter((st) => st.effect === "Allow" && asList(st.s.actions).includes(action));

export const asList = (v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** "${aws_x.y.z}" → "aws_x.y.z"; other strings unchanged. */
export const unwrap = (v) => soleExpression(v) ?? v;
