#!/usr/bin/env node
// Prints, as one JSON line, where a deployed function may list S3 (see lib/list-grants.mjs):
//   node tools/s3-list-grants.mjs record_failure   →   [{"bucket":"input","prefix":"incoming/"},...]
import { loadConfig } from "./lib/terraform.mjs";
import { listGrants } from "./lib/list-grants.mjs";

const [key] = process.argv.slice(2);
if (!key) {
    console.error("usage: s3-list-grants.mjs FUNCTION (a key of local.functions, e.g. record_failure)");
    process.exit(2);
}
try {
    console.log(JSON.stringify(listGrants(await loadConfig(), key)));
} catch (error) {
    console.error(`s3-list-grants: ${error.message}`);
    process.exit(1);
}
