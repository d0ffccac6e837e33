#!/usr/bin/env node
// A local S3-compatible server for `dataprocess stack` and the tests: s3rver (see docs/upload.md for
// why), listening on 127.0.0.1, with the given buckets created. It prints one JSON line per fact on
// stdout — {"listening":{"address","port"}} once, then {"event":{...}} for each object created
// (S3's event-notification record: the local stand-in for EventBridge) — and exits when its stdin
// closes, so it never outlives the process that started it.
//
// usage: node local-s3.mjs --directory DIR [--port N] [--bucket NAME]...
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const S3rver = require("s3rver");

const args = process.argv.slice(2);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const buckets = args.flatMap((a, i) => (a === "--bucket" ? [args[i + 1]] : []));
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
    handle(req, res);
});
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
