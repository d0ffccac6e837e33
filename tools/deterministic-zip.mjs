#!/usr/bin/env node
// Deterministic zip of a directory: entries sorted by path (byte order), every timestamp
// 1980-01-01 00:00:00 (DOS epoch, no extended-timestamp extra field), fixed permissions (0644:
// the managed runtime loads assemblies, it executes none of them), no directory entries, deflate
// level 9.
// Two runs over the same files give byte-identical archives, so a Lambda's source_code_hash only
// changes when its code does. Usage: node deterministic-zip.mjs <source-dir> <out.zip>
import { createWriteStream, mkdirSync, readdirSync, renameSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yazl from "yazl";

export const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0); // local time: DOS timestamps have no zone

/** Relative POSIX paths of every regular file under dir, sorted by their UTF-8 bytes. */
export function listFiles(dir) {
    const out = [];
    const walk = (abs, rel) => {
        for (const entry of readdirSync(abs, { withFileTypes: true })) {
            const a = path.join(abs, entry.name);
            const r = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) walk(a, r);
            else if (entry.isFile()) out.push(r);
            else if (entry.isSymbolicLink()) throw new Error(`symbolic link not supported in a Lambda package: ${r}`);
        }
    };
    walk(dir, "");
    return out.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
}

export function createDeterministicZip(sourceDir, outFile) {
    const files = listFiles(sourceDir);
    if (files.length === 0) return Promise.reject(new Error(`nothing to zip in ${sourceDir}`));
    mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
    const tmp = `${outFile}.tmp-${process.pid}`;
    const zip = new yazl.ZipFile();
    for (const rel of files) {
        zip.addFile(path.join(sourceDir, rel), rel, {
            mtime: FIXED_MTIME,
            mode: 0o100644,
            compress: true,
            compressionLevel: 9,
            forceDosTimestamp: true,
        });
    }
    zip.end();
    return new Promise((resolve, reject) => {
        const out = createWriteStream(tmp);
        zip.outputStream.on("error", reject);
        out.on("error", reject);
        out.on("close", () => {
            renameSync(tmp, outFile);
            resolve({ file: outFile, entries: files.length });
        });
        zip.outputStream.pipe(out);
    });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    const [sourceDir, outFile] = process.argv.slice(2);
    if (!sourceDir || !outFile) {
        console.error("usage: node deterministic-zip.mjs <source-dir> <out.zip>");
        process.exit(2);
    }
    createDeterministicZip(sourceDir, outFile).then(
        ({ file, entries }) => console.log(`${file}: ${entries} files`),
        (error) => { console.error(`error: ${error.message}`); process.exit(1); },
    );
}
