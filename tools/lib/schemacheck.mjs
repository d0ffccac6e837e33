// Checks every resource, data source and ephemeral resource of a loaded configuration against the
// provider schema: the type exists, every argument and nested block exists, required arguments and
// required blocks are present, blocks are written as blocks.
import { loadAwsSchema } from "./schema.mjs";

// Terraform meta-arguments and meta-blocks, valid in every resource/data/ephemeral block.
const META = new Set(["count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"]);

// Non-AWS providers: @cdktf/provider-random has no ephemeral resources (cdktf predates them), so the
// one non-AWS type used here is described by hand from the random provider's docs (>= 3.7.1).
export const NON_AWS_SCHEMAS = {
    ephemeral: {
        random_password: {
            arguments: ["length", "keepers", "lower", "min_lower", "min_numeric", "min_special", "min_upper", "numeric", "override_special", "special", "upper"],
            required: ["length"],
        },
    },
};

function handWritten(kind, type) {
    const s = NON_AWS_SCHEMAS[kind]?.[type];
    if (!s) return undefined;
    return {
        arguments: new Map(s.arguments.map((a) => [a, { required: s.required.includes(a) }])),
        blocks: new Map(),
    };
}

function checkBody(body, schema, where, problems) {
    for (const [key, value] of Object.entries(body)) {
        if (META.has(key)) continue;
        if (key === "dynamic") {
            for (const [name, dyns] of Object.entries(value)) {
                const nested = schema.blocks.get(name);
                if (!nested) { problems.push(`${where}: unknown nested block "${name}" (dynamic)`); continue; }
                for (const dyn of dyns) for (const content of dyn.content ?? []) checkBody(content, nested.schema, `${where}.${name}`, problems);
            }
            continue;
        }
        if (schema.arguments.has(key)) continue;
        const nested = schema.blocks.get(key);
        if (nested) {
            if (!Array.isArray(value)) { problems.push(`${where}: "${key}" is a nested block, write it as a block, not "${key} = ..."`); continue; }
            if (!nested.list && value.length > 1) problems.push(`${where}: block "${key}" may appear only once`);
            value.forEach((item) => checkBody(item, nested.schema, `${where}.${key}`, problems));
            continue;
        }
        problems.push(`${where}: unknown argument "${key}"`);
    }
    const dynamicNames = new Set(Object.keys(body.dynamic ?? {}));
    for (const [name, arg] of schema.arguments) {
        if (arg.required && !(name in body)) problems.push(`${where}: missing required argument "${name}"`);
    }
    for (const [name, nested] of schema.blocks) {
        if (nested.required && !(name in body) && !dynamicNames.has(name)) problems.push(`${where}: missing required block "${name}"`);
    }
}

/** Returns a list of problems ("file: data.aws_x.y.arg: unknown argument ..."); empty when valid. */
export function checkAgainstSchema(config) {
    const aws = loadAwsSchema();
    const problems = [];
    for (const b of config.blocks) {
        const prefix = b.kind === "resource" ? "" : `${b.kind}.`;
        const where = `${b.file}: ${prefix}${b.type}.${b.name}`;
        let schema;
        if (b.type.startsWith("aws_") && b.kind === "resource") schema = aws.resources.get(b.type);
        else if (b.type.startsWith("aws_") && b.kind === "data") schema = aws.dataSources.get(b.type);
        else schema = handWritten(b.kind, b.type);
        if (!schema) { problems.push(`${where}: unknown ${b.kind} type "${b.type}" (provider aws ${aws.version})`); continue; }
        checkBody(b.body, schema, where, problems);
    }
    return problems;
}
