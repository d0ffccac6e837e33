#!/usr/bin/env node
// A local S3-compatible server for `dataprocess stack` and the tests: s3rver (see docs/upload.md for
// why), listening on 127.0.0.1, with the given buckets created. It prints one JSON line per fact on
// stdout — {"listening":{"address","port"}} once, then {"event":{...}} for each object created
// (S3's event-notification record: the local stand-in for EventBridge) — and exits when its stdin
// closes, so it never outlives the process that started it.
//
// With --strict it answers a missing key as S3 answers a caller without s3:ListBucket: 403
// AccessDenied, not 404 NoSuchKey, unless a --list BUCKET/PREFIX grant covers the key (GET, HEAD,
// and CopyObject's source). `node s3-list-grants.mjs FUNCTION` gives a deployed function's grants.
//
// usage: node local-s3.mjs --directory DIR [--port N] [--bucket NAME]... [--strict [--list BUCKET/PREFIX]...]
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const S3rver = require("s3rver");

const args = process.argv.slice(2);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const buckets = args.flatMap((a, i) => (a === "--bucket" ? [args[i + 1]] : []));
const strict = args.includes("--strict");
const listGrants = args.flatMap((a, i) => (a === "--list" ? [args[i + 1]] : [])).map((grant) => {
    const at = grant.indexOf("/");
    return at < 1 ? null : { bucket: grant.slice(0, at), prefix: grant.slice(at + 1) };
});
if (listGrants.includes(null)) {
    console.error("--list takes BUCKET/PREFIX (an empty prefix: BUCKET/)");
    process.exit(2);
}
const mayList = (bucket, key) => listGrants.some((g) => g.bucket === bucket && key.startsWith(g.prefix));
const directory = option("--directory");
if (!directory) {
    console.error("usage: node local-s3.mjs --directory DIR [--port N] [--bucket NAME]...");
    process.exit(2);
}

const server = new S3rver({
    address: "127.0.0.1",
    port: Number(option("--port") ?? 0),
    directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name })),
});
server.on("event", (event) => process.stdout.write(JSON.stringify({ event }) + "\n"));

// s3rver decodes x-amz-copy-source with decodeURI, which leaves the %2F that SDKs write for "/" in
// the key: CopyObject then finds no source. Re-encode the header the way s3rver expects.
const handle = server.callback();
const http = createServer((req, res) => {
    const source = req.headers["x-amz-copy-source"];
    if (typeof source === "string") req.headers["x-amz-copy-source"] = encodeURI(decodeURIComponent(source));
    if (strict) forbidMissingUnlessListable(req, res);
    handle(req, res);
});

// The object a request reads (GET/HEAD of a key, or a copy's source), as [bucket, key], or null.
function objectRead(req) {
    const source = req.headers["x-amz-copy-source"];
    const path = req.method === "PUT" && typeof source === "string"
        ? decodeURIComponent(source).replace(/^\//, "")
        : (req.method === "GET" || req.method === "HEAD") ? decodeURIComponent(new URL(req.url, "http://local").pathname.slice(1)) : null;
    const at = path?.indexOf("/") ?? -1;
    return at > 0 && at < path.length - 1 ? [path.slice(0, at), path.slice(at + 1)] : null;
}

// S3 without s3:ListBucket: "If you don't have the s3:ListBucket permission, Amazon S3 returns an
// HTTP status code 403 Access Denied error" for a key that does not exist (GetObject reference).
function forbidMissingUnlessListable(req, res) {
    const read = objectRead(req);
    if (!read || mayList(...read)) return;
    const end = res.end.bind(res);
    res.end = (...rest) => {
        if (res.statusCode !== 404 || res.headersSent) return end(...rest);
        const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
        res.statusCode = 403;
        res.setHeader("content-type", "application/xml");
        res.setHeader("content-length", Buffer.byteLength(body));
        return end(req.method === "HEAD" ? undefined : body);
    };
}
await server.configureBuckets();
await new Promise((resolve, reject) => http.listen(Number(option("--port") ?? 0), "127.0.0.1", (err) => (err ? reject(err) : resolve())));
const address = http.address();
process.stdout.write(JSON.stringify({ listening: { address: address.address, port: address.port } }) + "\n");

const stop = () => { http.close(() => process.exit(0)); http.closeAllConnections(); };
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
