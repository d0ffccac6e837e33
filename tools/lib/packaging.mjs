// What scripts/package.sh produces, read from the script itself, and what Terraform references.
import { readFileSync } from "node:fs";
import path from "node:path";
import { block, expandLocals, repoRoot, resources } from "./terraform.mjs";

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

/** For each aws_lambda_function: {name, filename, hashOf, handler} with locals resolved. */
export function lambdaPackages(config) {
    const resolve = (expr) => {
        if (typeof expr !== "string") return undefined;
        return expr.replace(/\$\{local\.([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+)*)\}/g, (whole, name, parts) => {
            let v = config.locals[name];
            for (const p of parts.split(".").filter(Boolean)) v = v?.[p];
            return typeof v === "string" ? v : whole;
        });
    };
    return resources(config, "aws_lambda_function").map((f) => {
        const filename = resolve(f.body.filename)?.replace(/^\$\{path\.module\}\//, "");
        const hash = resolve(f.body.source_code_hash)?.match(/^\$\{filebase64sha256\("\$\{path\.module\}\/(.+)"\)\}$/);
        return { name: f.name, filename, hashOf: hash?.[1], handler: resolve(f.body.handler), environment: expandLocals(config, block(f.body, "environment")) };
    });
}
