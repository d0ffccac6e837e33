import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { createDeterministicZip } from "../deterministic-zip.mjs";
import { lambdaPackages, packagedFunctions } from "../lib/packaging.mjs";
import { loadConfig, repoRoot } from "../lib/terraform.mjs";

const temp = mkdtempSync(path.join(os.tmpdir(), "dataprocess-zip-"));
after(() => rmSync(temp, { recursive: true, force: true }));
const sha256 = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");

function sampleTree(dir) {
    mkdirSync(path.join(dir, "runtimes", "b"), { recursive: true });
    writeFileSync(path.join(dir, "Zeta.dll"), Buffer.alloc(4096, 7));
    writeFileSync(path.join(dir, "App.deps.json"), '{"runtimeTarget":{}}\n');
    writeFileSync(path.join(dir, "App.runtimeconfig.json"), '{"runtimeOptions":{}}\n');
    writeFileSync(path.join(dir, "runtimes", "b", "native.so"), "native");
    writeFileSync(path.join(dir, "aardvark.txt"), "lowercase sorts after uppercase in byte order");
}

/** Central directory entries of a zip: name, DOS time/date, extra length, external attributes. */
function centralDirectory(file) {
    const buf = readFileSync(file);
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const count = buf.readUInt16LE(eocd + 10);
    let p = buf.readUInt32LE(eocd + 16);
    const entries = [];
    for (let i = 0; i < count; i++) {
        assert.equal(buf.readUInt32LE(p), 0x02014b50);
        const nameLength = buf.readUInt16LE(p + 28);
        const extraLength = buf.readUInt16LE(p + 30);
        const commentLength = buf.readUInt16LE(p + 32);
        const localOffset = buf.readUInt32LE(p + 42);
        entries.push({
            name: buf.toString("utf8", p + 46, p + 46 + nameLength),
            time: buf.readUInt16LE(p + 12),
            date: buf.readUInt16LE(p + 14),
            extraLength,
            localExtraLength: buf.readUInt16LE(localOffset + 28),
            mode: buf.readUInt32LE(p + 38) >>> 16,
        });
        p += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}

test("zipping the same directory twice gives byte-identical archives", async () => {
    const dir = path.join(temp, "a");
    sampleTree(dir);
    await createDeterministicZip(dir, path.join(temp, "one.zip"));
    await createDeterministicZip(dir, path.join(temp, "two.zip"));
    assert.equal(sha256(path.join(temp, "one.zip")), sha256(path.join(temp, "two.zip")));
});

test("file timestamps, location and permissions do not change the archive; content does", async () => {
    const a = path.join(temp, "b1");
    const b = path.join(temp, "elsewhere", "b2");
    sampleTree(a);
    cpSync(a, b, { recursive: true });
    utimesSync(path.join(b, "Zeta.dll"), new Date(2031, 4, 6), new Date(2031, 4, 6));
    execFileSync("chmod", ["755", path.join(b, "App.deps.json")]);
    await createDeterministicZip(a, path.join(temp, "b1.zip"));
    await createDeterministicZip(b, path.join(temp, "b2.zip"));
    assert.equal(sha256(path.join(temp, "b1.zip")), sha256(path.join(temp, "b2.zip")));
    writeFileSync(path.join(b, "aardvark.txt"), "changed");
    await createDeterministicZip(b, path.join(temp, "b3.zip"));
    assert.notEqual(sha256(path.join(temp, "b1.zip")), sha256(path.join(temp, "b3.zip")));
});

test("entries are sorted, dated 1980-01-01 00:00, mode 0644, without extra fields or directory entries", async () => {
    const dir = path.join(temp, "c");
    sampleTree(dir);
    await createDeterministicZip(dir, path.join(temp, "c.zip"));
    const entries = centralDirectory(path.join(temp, "c.zip"));
    assert.deepEqual(entries.map((e) => e.name), ["App.deps.json", "App.runtimeconfig.json", "Zeta.dll", "aardvark.txt", "runtimes/b/native.so"]);
    for (const e of entries) {
        assert.equal(e.date, (0 << 9) | (1 << 5) | 1, `${e.name}: DOS date 1980-01-01`);
        assert.equal(e.time, 0, `${e.name}: DOS time 00:00:00`);
        assert.equal(e.extraLength, 0, `${e.name}: central extra field`);
        assert.equal(e.localExtraLength, 0, `${e.name}: local extra field`);
        assert.equal(e.mode, 0o100644, `${e.name}: mode`);
    }
});

test("the zip CLI refuses an empty directory with a clear error", () => {
    const empty = path.join(temp, "empty");
    mkdirSync(empty);
    assert.throws(
        () => execFileSync(process.execPath, [path.join(repoRoot, "tools", "deterministic-zip.mjs"), empty, path.join(temp, "e.zip")], { stdio: "pipe" }),
        (error) => /error: nothing to zip/.test(String(error.stderr)),
    );
});

test("package.sh: strict bash, valid syntax, publishes framework-dependent linux-arm64 ReadyToRun into .local/publish", () => {
    const { text, functions, projects } = packagedFunctions();
    assert.match(text, /^#!\/usr\/bin\/env bash\n/);
    assert.match(text, /^set -euo pipefail$/m);
    execFileSync("bash", ["-n", path.join(repoRoot, "scripts", "package.sh")]);
    for (const flag of ["--configuration Release", '--runtime "$RUNTIME_IDENTIFIER"', "--self-contained false", "-p:PublishReadyToRun="]) assert.ok(text.includes(flag), flag);
    assert.match(text, /RUNTIME_IDENTIFIER=linux-arm64/);
    assert.match(text, /out="\.local\/publish\/\$fn"/);
    assert.match(text, /node tools\/deterministic-zip\.mjs "\$out" "dist\/\$fn\.zip"/);
    assert.deepEqual(functions, ["enrichment", "anonymization", "database", "uploadurl"]);
    for (const fn of functions) assert.ok(existsSync(path.join(repoRoot, projects[fn], `${path.basename(projects[fn])}.csproj`)), `${fn}: ${projects[fn]}`);
});

test("every zip Terraform references (filename and source_code_hash) is one package.sh produces", async () => {
    const config = await loadConfig();
    const { zips } = packagedFunctions();
    const lambdas = lambdaPackages(config);
    assert.equal(lambdas.length, 8);
    for (const l of lambdas) {
        assert.ok(zips.includes(l.filename), `${l.name}: ${l.filename} not in ${zips}`);
        assert.equal(l.hashOf, l.filename, `${l.name}: source_code_hash hashes the same file`);
    }
    assert.deepEqual([...new Set(lambdas.map((l) => l.filename))].sort(), [...zips].sort(), "every package is deployed");
});

test("every handler's assembly is the project its zip is built from (Assembly::Namespace.Type::Method)", async () => {
    const config = await loadConfig();
    const { projects } = packagedFunctions();
    const expected = {
        enrichment: "DataProcess.Enrichment::DataProcess.Enrichment.EnrichmentFunction::HandleAsync",
        anonymization: "DataProcess.Anonymization::DataProcess.Anonymization.AnonymizationFunction::HandleAsync",
        consolidation: "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ConsolidationFunction::HandleAsync",
        record_failure: "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RecordFailureFunction::HandleAsync",
        upload_url: "DataProcess.UploadUrl::DataProcess.UploadUrl.UploadUrlFunction::HandleAsync",
        run_status: "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RunStatusFunction::HandleAsync",
        replay_check: "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ReplayCheckFunction::HandleAsync",
        migrate: "DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.MigrateFunction::HandleAsync",
    };
    for (const l of lambdaPackages(config)) {
        assert.equal(l.handler, expected[l.name], l.name);
        const fn = path.basename(l.filename, ".zip");
        const [assembly, type] = l.handler.split("::");
        assert.equal(assembly, path.basename(projects[fn]), `${l.name}: handler assembly vs ${l.filename}`);
        assert.ok(type.startsWith(`${assembly}.`), `${l.name}: type in the assembly's namespace`);
    }
});

test("the function environments hold identifiers only (object store, database endpoint, secret ARNs)", async () => {
    const config = await loadConfig();
    const env = Object.fromEntries(lambdaPackages(config).map((l) => [l.name, l.environment]));
    for (const [name, text] of Object.entries(env)) assert.match(text, /"DATAPROCESS_OBJECT_STORE":"s3"/, name);
    assert.match(env.anonymization, /"DATAPROCESS_HMAC_SECRET_ID":"\$\{aws_secretsmanager_secret\.hmac_key\.arn\}"/);
    for (const name of ["consolidation", "record_failure", "replay_check", "run_status", "migrate"]) {
        for (const v of ["DATAPROCESS_DB_HOST", "DATAPROCESS_DB_PORT", "DATAPROCESS_DB_NAME", "DATAPROCESS_DB_SSL_ROOT_CERT"]) assert.ok(env[name].includes(v), `${name}: ${v}`);
    }
    assert.ok(env.migrate.includes("master_user_secret[0].secret_arn"), "migrate: the managed secret's ARN");
});

// What each package may ship: exactly these assemblies. A package that picks up another one (a database driver in a
// function that never connects, an SDK it never calls, a dev-only launcher) fails here, so adding one is a decision.
const s3 = ["AWSSDK.Core.dll", "AWSSDK.Extensions.Numerics.dll", "AWSSDK.S3.dll", "System.IO.Hashing.dll", "DataProcess.Aws.dll", "DataProcess.Core.dll"];
const secrets = ["AWSSDK.SimpleSystemsManagement.dll", "DataProcess.Aws.Secrets.dll"];
const postgres = ["Npgsql.dll", "Microsoft.Extensions.DependencyInjection.Abstractions.dll", "Microsoft.Extensions.Logging.Abstractions.dll", "DataProcess.Postgres.dll"];
const packageAssemblies = {
    enrichment: [...s3, "DataProcess.Enrichment.dll"],
    anonymization: [...s3, ...secrets, "DataProcess.Anonymization.dll"],
    database: [...s3, ...secrets, ...postgres, "DataProcess.DatabaseFunctions.dll"],
    uploadurl: [...s3, "DataProcess.UploadUrl.dll"],
};
const neverShipped = ["DataProcess.Local.dll", "dataprocess.dll", "Spectre.Console.dll", "System.CommandLine.dll"];

test("each package ships exactly the assemblies its functions use, and the RDS CA bundle when a function of it connects (dotnet publish of its project, zipped)", async () => {
    const { functions, projects } = packagedFunctions();
    const config = await loadConfig();
    // The CA bundle each connecting function is told to verify the database with: a file its zip must hold.
    const bundles = new Map();
    for (const l of lambdaPackages(config)) {
        const match = /"DATAPROCESS_DB_SSL_ROOT_CERT":"([^"]+)"/.exec(l.environment);
        if (match) bundles.set(path.basename(l.filename, ".zip"), match[1]);
    }
    assert.deepEqual([...bundles.keys()], ["database"], "only the database package's functions connect");
    assert.equal(bundles.get("database"), "rds-ca-bundle.pem");
    assert.deepEqual(Object.keys(packageAssemblies).sort(), [...functions].sort(), "an assembly list per package");
    for (const fn of functions) {
        const out = path.join(temp, "publish", fn);
        execFileSync("dotnet", ["publish", path.join(repoRoot, projects[fn]), "--configuration", "Release", "--nologo", "-v", "quiet", "--output", out], { stdio: "pipe" });
        const shipped = readdirSync(out).filter((f) => f.endsWith(".dll")).sort();
        for (const dll of neverShipped) assert.ok(!shipped.includes(dll), `${fn}: ships ${dll}, which only a workstation uses`);
        if (fn !== "database") for (const dll of postgres) assert.ok(!shipped.includes(dll), `${fn}: ships ${dll}, but none of its functions reaches the database`);
        if (fn === "enrichment" || fn === "uploadurl") for (const dll of secrets) assert.ok(!shipped.includes(dll), `${fn}: ships ${dll}, but it reads no secret`);
        assert.deepEqual(shipped, [...packageAssemblies[fn]].sort(), `${fn}: the assemblies of ${projects[fn]}`);
        const zip = path.join(temp, `${fn}.zip`);
        await createDeterministicZip(out, zip);
        const pems = centralDirectory(zip).map((e) => e.name).filter((n) => n.endsWith(".pem"));
        assert.deepEqual(pems, bundles.has(fn) ? [bundles.get(fn)] : [], `${fn}: the CA bundle at the zip's root (the function's directory) exactly when a function of it connects`);
        if (bundles.has(fn)) assert.match(readFileSync(path.join(out, bundles.get(fn)), "utf8"), /^-----BEGIN CERTIFICATE-----\n/, `${fn}: a PEM bundle`);
    }
});
