import assert from "node:assert/strict";
import { test } from "node:test";
import { environmentOf, functionStatements, lambdaFunctions, roleOf } from "../lib/functions.mjs";
import { instanceAt, instances, loadConfig, parseObjectLiteral, soleExpression, staticObject } from "../lib/terraform.mjs";

const config = await loadConfig();
const keys = (o) => Object.keys(o ?? {}).sort();

// A configuration of a few locals and blocks, for the model's unit tests.
const model = (locals, blocks = []) => ({ locals, blocks: blocks.map((b) => ({ kind: "resource", file: "t.tf", ...b })) });

test("the function table, the environments and the policies have one entry per function", () => {
    const functions = keys(config.locals.functions);
    assert.deepEqual(functions, ["anonymization", "consolidation", "enrichment", "migrate", "record_failure", "replay_check", "run_status", "upload_url"]);
    assert.deepEqual(keys(config.locals.function_environments), functions);
    assert.deepEqual(keys(config.locals.function_policies), functions);
    for (const type of ["aws_lambda_function", "aws_cloudwatch_log_group", "aws_iam_role", "aws_iam_role_policy"]) {
        const made = instances(config, type).filter((i) => i.name === (type === "aws_lambda_function" ? "this" : "function")).map((i) => i.key).sort();
        assert.deepEqual(made, functions, type);
    }
});

test("every function instance is read statically: its own role, its own log group, its entry's settings", () => {
    for (const fn of lambdaFunctions(config)) {
        assert.equal(fn.unresolved, undefined, fn.address);
        assert.equal(roleOf(fn), `aws_iam_role.function["${fn.key}"]`, fn.address);
        assert.equal(fn.body.logging_config[0].log_group, `\${aws_cloudwatch_log_group.function["${fn.key}"].name}`);
        assert.equal(fn.body.function_name, config.locals.functions[fn.key].name);
        assert.ok(environmentOf(config, fn).variables, `${fn.address}: environment keys known`);
        assert.ok(functionStatements(config, fn).length > 0, `${fn.address}: its role has statements`);
    }
});

test("every moved block leads to an instance of the configuration", () => {
    const moved = config.files.flatMap((f) => f.json.moved ?? []);
    assert.ok(moved.length >= 7, "the per-function blocks of earlier versions are moved");
    for (const m of moved) assert.ok(instanceAt(config, soleExpression(m.to)), `${m.from} → ${m.to}`);
});

test("merge() of locals and object literals is read statically, later keys winning", () => {
    const c = model({ a: { X: "1", Y: "2" }, b: "${merge(local.a, { Y = aws_s3_bucket.b.id, \"Z\" = \"z\" })}" });
    assert.deepEqual(staticObject(c, "${local.b}"), { X: "1", Y: "${aws_s3_bucket.b.id}", Z: "z" });
    assert.equal(staticObject(c, "${merge(local.a, var.extra)}"), undefined, "a variable's keys are not static");
    assert.deepEqual(parseObjectLiteral("{\n A = tostring(var.n)\n B = true\n}"), { A: "${tostring(var.n)}", B: true });
});

test("a for_each over a local map becomes one instance per key, each.value substituted and dynamic blocks decided", () => {
    const c = model({ fns: { a: { name: "${local.p}-a", vpc: true }, b: { name: "b", vpc: false } } }, [{
        type: "aws_lambda_function",
        name: "this",
        body: {
            for_each: "${local.fns}",
            function_name: "${each.value.name}",
            description: "fn ${each.key}: ${each.value.name}",
            dynamic: { vpc_config: [{ for_each: "${each.value.vpc ? [true] : []}", content: [{ subnet_ids: "${aws_subnet.p[*].id}" }] }] },
        },
    }]);
    const [a, b] = instances(c, "aws_lambda_function");
    assert.equal(a.address, 'aws_lambda_function.this["a"]');
    assert.equal(a.body.function_name, "${local.p}-a");
    assert.equal(b.body.description, "fn b: b");
    assert.deepEqual(a.body.vpc_config, [{ subnet_ids: "${aws_subnet.p[*].id}" }]);
    assert.equal(b.body.vpc_config, undefined);
    assert.equal(a.body.dynamic, undefined);
});

test("a for_each the model cannot read is reported, not guessed", () => {
    const c = model({}, [{ type: "aws_lambda_function", name: "x", body: { for_each: "${toset(var.names)}" } }]);
    assert.match(instances(c, "aws_lambda_function")[0].unresolved, /is not a static map/);
});
