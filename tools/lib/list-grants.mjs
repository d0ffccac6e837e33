// Where a function may call s3:ListBucket, read from its role's policies: the prefixes under which
// S3 answers it 404 for a missing key instead of 403. The strict local S3 (local-s3.mjs --strict)
// is configured from this, so the stand-in and the Terraform cannot drift apart.
import { asList, functionStatements, granting, lambdaFunction } from "./functions.mjs";

/** "${aws_s3_bucket.input.arn}" → "input" (the logical bucket name the local stack also uses). */
function bucketOf(resource) {
    const m = typeof resource === "string" && resource.match(/^\$\{aws_s3_bucket\.([A-Za-z0-9_]+)\.arn\}$/);
    if (!m) throw new Error(`s3:ListBucket on ${JSON.stringify(resource)}: expected \${aws_s3_bucket.NAME.arn}`);
    return m[1];
}

/** "${local.incoming_prefix}*" → "incoming/"; a literal "profiles/*" → "profiles/". */
function prefixOf(config, value) {
    const m = typeof value === "string" && value.match(/^(?:\$\{local\.([A-Za-z0-9_]+)\})?([^*$]*)\*$/);
    if (!m) throw new Error(`s3:prefix ${JSON.stringify(value)}: expected a prefix ending in *`);
    const local = m[1] === undefined ? "" : config.locals[m[1]];
    if (typeof local !== "string") throw new Error(`s3:prefix ${JSON.stringify(value)}: local.${m[1]} is not a literal string`);
    return local + m[2];
}

/** [{bucket, prefix}] for the function `key` of local.functions (e.g. "record_failure"). */
export function listGrants(config, key) {
    const fn = lambdaFunction(config, key);
    if (!fn) throw new Error(`no function ${key} in the configuration`);
    return granting(functionStatements(config, fn), "s3:ListBucket").flatMap((st) => {
        const prefixes = asList(st.s.condition)
            .filter((c) => c.variable === "s3:prefix" && c.test === "StringLike")
            .flatMap((c) => asList(c.values).map((v) => prefixOf(config, v)));
        // A ListBucket grant without an s3:prefix condition lets the function list the whole bucket.
        return asList(st.s.resources).flatMap((r) => (prefixes.length ? prefixes : [""]).map((prefix) => ({ bucket: bucketOf(r), prefix })));
    });
}
