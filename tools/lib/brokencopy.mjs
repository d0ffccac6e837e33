// Broken copies of the configuration for the rule tests: the .tf files (and workflow.asl.json)
// copied to a temporary directory, one edit applied, the copy loaded. An edit that changes
// nothing fails the test, so a broken copy can never silently test the real configuration.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after } from "node:test";
import { loadConfig, repoRoot, terraformFiles } from "./terraform.mjs";

const temp = mkdtempSync(path.join(os.tmpdir(), "dataprocess-tf-"));
after(() => rmSync(temp, { recursive: true, force: true }));
let copies = 0;

/** Applies `edit` (text → text) to `file` of a fresh copy and loads the copy. */
export async function brokenCopy(file, edit) {
    const dir = path.join(temp, String(copies++));
    for (const f of [...terraformFiles(), path.join(repoRoot, "workflow.asl.json")]) cpSync(f, path.join(dir, path.basename(f)));
    const target = path.join(dir, file);
    const before = readFileSync(target, "utf8");
    const changed = edit(before);
    assert.notEqual(changed, before, `the edit of ${file} changed nothing`);
    writeFileSync(target, changed);
    return loadConfig(dir);
}

/** Sets one attribute of one entry of local.functions (compute.tf), e.g. setEntry(t, "enrichment", "vpc", "true"). */
export function setEntry(text, key, attribute, value) {
    const start = text.indexOf(`    ${key} = {\n`);
    assert.ok(start >= 0, `entry ${key} not found`);
    const end = text.indexOf("\n    }\n", start);
    const entry = text.slice(start, end).replace(new RegExp(`(\\n      ${attribute}\\s+= ).*`), `$1${value}`);
    assert.notEqual(entry, text.slice(start, end), `entry ${key} has no ${attribute}`);
    return text.slice(0, start) + entry + text.slice(end);
}

/** Removes the block that starts with `header` (up to its closing brace at column 0). */
export function removeBlock(text, header) {
    const start = text.indexOf(header);
    assert.ok(start >= 0, `block ${header} not found`);
    const end = text.indexOf("\n}\n", start);
    return text.slice(0, start) + text.slice(end + 3);
}

/** Replaces exactly one occurrence of `from` (fails when it is not there, or there more than once). */
export function replaceOnce(text, from, to) {
    const at = text.indexOf(from);
    assert.ok(at >= 0, `not found: ${from}`);
    assert.equal(text.indexOf(from, at + 1), -1, `more than one: ${from}`);
    return text.slice(0, at) + to + text.slice(at + from.length);
}
