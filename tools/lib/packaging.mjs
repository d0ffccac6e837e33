// What scripts/package.sh produces, read from the script itself, and what Terraform references.
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot, resolveValue } from "./terraform.mjs";
import { environmentOf, lambdaFunctions } from "./functions.mjs";

export const packageScript = (dir = repoRoot) => path.join(dir, "scripts", "package.sh");

/** { functions: [name], projects: {name: dir}, zips: ["dist/<name>.zip"] } from package.sh. */
export function packagedFunctions(dir = repoRoot) {
    const text = readFileSync(packageScript(dir), "utf8");
    const list = text.match(/^FUNCTIONS=\(([^)]*)\)/m);
    if (!list) throw new Error("package.sh: no FUNCTIONS=(...) array");
    const functions = list[1].trim().split(/\s+/);
    const projects = Object.fromEntries([...text.matchAll(/^\s*\[([a-z_]+)\]=(\S+)\s*$/gm)].map((m) => [m[1], m[2]]));
    return { text, functions, projects, zips: functions.map((f) => `dist/${f}.zip`) };
}

/** For each aws_lambda_function instance: {name, filename, hashOf, handler, environment} with locals resolved. */
export function lambdaPackages(config) {
    return lambdaFunctions(config).map((f) => {
        const filename = resolveValue(config, f.body.filename)?.replace(/^\$\{path\.module\}\//, "");
        const hash = resolveValue(config, f.body.source_code_hash)?.match(/^\$\{filebase64sha256\("\$\{path\.module\}\/(.+)"\)\}$/);
        return { name: f.key, filename, hashOf: hash?.[1], handler: resolveValue(config, f.body.handler), environment: environmentOf(config, f).text };
    });
}
