// Extracts the Terraform AWS provider schema (resource and data source types, their arguments and
// nested blocks, and which arguments are required) from the jsii metadata that ships with the
// pinned npm package @cdktf/provider-aws. cdktf generates that package from `terraform providers
// schema -json`, so its Config structs mirror the provider schema one to one:
//   - a class whose base is cdktf.TerraformResource / cdktf.TerraformDataSource is a type; its docs
//     link ends with the Terraform type name (`{@link https://registry…/resources/s3_bucket aws_s3_bucket}`);
//   - the class initializer's `config` parameter names the Config struct; each property there is an
//     argument or a nested block, its Terraform (snake_case) name is the anchor of its docs link
//     (`…#versioning_configuration S3BucketVersioningA#versioning_configuration`);
//   - a property typed as another struct (or a list of them) is a nested block;
//   - a property without `optional: true` is required.
// Attributes that are only computed are not in the Config structs, so they are (correctly) not
// accepted as arguments.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

let cached;

/** Path of the pinned package's jsii assembly. */
export function providerAwsAssemblyPath() {
    const pkgJson = require.resolve("@cdktf/provider-aws/package.json");
    return path.join(path.dirname(pkgJson), ".jsii");
}

/** The provider version the pinned package was generated from, e.g. "6.25.0". */
export function providerAwsVersion() {
    const pkg = JSON.parse(readFileSync(require.resolve("@cdktf/provider-aws/package.json"), "utf8"));
    return pkg.cdktf?.provider?.version;
}

function snakeNameOf(prop) {
    const text = `${prop.docs?.summary ?? ""} ${prop.docs?.remarks ?? ""}`;
    const m = text.match(/#([a-z0-9_]+) [A-Za-z0-9]+#[a-z0-9_]+\}/);
    if (m) return m[1];
    // Fallback (should not happen for generated structs): camelCase → snake_case.
    return prop.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function structFqnOf(type) {
    if (!type) return undefined;
    if (type.fqn && !type.fqn.startsWith("cdktf.")) return { fqn: type.fqn, list: false };
    if (type.collection?.kind === "array") {
        const inner = structFqnOf(type.collection.elementtype);
        return inner ? { fqn: inner.fqn, list: true } : undefined;
    }
    if (type.union) {
        for (const t of type.union.types) {
            const inner = structFqnOf(t);
            if (inner) return inner;
        }
    }
    return undefined;
}

/**
  * Block schema: { arguments: Map<name, {required}>, blocks: Map<name, {required, list, schema}> }.
  * Built lazily per struct, memoised.
  */
function makeBlockBuilder(types) {
    const memo = new Map();
    const build = (fqn) => {
        if (memo.has(fqn)) return memo.get(fqn);
        const t = types[fqn];
        const schema = { fqn, arguments: new Map(), blocks: new Map() };
        memo.set(fqn, schema);
        if (!t) return schema;
        for (const prop of t.properties ?? []) {
            const name = snakeNameOf(prop);
            const required = !prop.optional;
            const struct = structFqnOf(prop.type);
            if (struct && types[struct.fqn]?.datatype) {
                schema.blocks.set(name, { required, list: struct.list, get schema() { return build(struct.fqn); } });
            } else {
                schema.arguments.set(name, { required });
            }
        }
        return schema;
    };
    return build;
}

/**
  * Loads the schema: { version, resources: Map<type, BlockSchema>, dataSources: Map<type, BlockSchema> }.
  */
export function loadAwsSchema() {
    if (cached) return cached;
    const assembly = JSON.parse(readFileSync(providerAwsAssemblyPath(), "utf8"));
    const types = assembly.types;
    const build = makeBlockBuilder(types);
    const resources = new Map();
    const dataSources = new Map();
    for (const t of Object.values(types)) {
        if (t.kind !== "class") continue;
        const kind = t.base === "cdktf.TerraformResource" ? resources
            : t.base === "cdktf.TerraformDataSource" ? dataSources : undefined;
        if (!kind) continue;
        const m = (t.docs?.summary ?? "").match(/\{@link \S+ (aws_[a-z0-9_]+)\}/);
        const config = t.initializer?.parameters?.find((p) => p.name === "config");
        if (!m || !config) continue;
        kind.set(m[1], build(config.type.fqn));
    }
    cached = { version: providerAwsVersion(), resources, dataSources };
    return cached;
}

/** Plain-object dump of one block schema (for debugging and docs). */
export function describe(schema, depth = 0) {
    const out = {};
    for (const [k, v] of schema.arguments) out[k] = v.required ? "required" : "optional";
    if (depth < 4) for (const [k, v] of schema.blocks) out[k] = { block: v.list ? "list" : "single", required: v.required, ...describe(v.schema, depth + 1) };
    return out;
}
