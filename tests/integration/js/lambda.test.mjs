// Lambda through the AWS SDK for JavaScript v3 client-lambda: a function created from a
// zip, invoked with a log tail; its handler itself uses the AWS SDK (not bundled: the
// runtime provides it) to reach DynamoDB in the same stratus through AWS_ENDPOINT_URL.
// And the fidelity proof: AWS's own runtime interface client (aws-lambda-ric, from npm) as
// a provided.al2023 function's bootstrap, run unmodified against stratus's Runtime API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  LambdaClient, CreateFunctionCommand, InvokeCommand, GetFunctionCommand, ResourceNotFoundException,
} from "@aws-sdk/client-lambda";
import { startDaemon } from "./daemon.mjs";

let daemon, client, dir;

before(async () => {
  daemon = await startDaemon();
  client = new LambdaClient({
    endpoint: daemon.endpoint, region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  dir = mkdtempSync(join(tmpdir(), "stratus-js-lambda-"));
});

after(async () => {
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A zip of several files (name -> [text, mode]).
function zipFiles(files) {
  const sub = mkdtempSync(join(dir, "z-"));
  for (const [name, [text, mode]] of Object.entries(files)) {
    writeFileSync(join(sub, name), text);
    chmodSync(join(sub, name), mode);
  }
  execFileSync("zip", ["-q", "-X", "f.zip", ...Object.keys(files)], { cwd: sub });
  const bytes = readFileSync(join(sub, "f.zip"));
  rmSync(sub, { recursive: true, force: true });
  return bytes;
}

function zip(source) {
  writeFileSync(join(dir, "index.js"), source);
  execFileSync("zip", ["-q", "-j", join(dir, "f.zip"), join(dir, "index.js")]);
  const bytes = readFileSync(join(dir, "f.zip"));
  rmSync(join(dir, "f.zip"));
  return bytes;
}

test("a handler using the runtime's AWS SDK reaches stratus's DynamoDB", async () => {
  const name = `js-${Date.now()}`;
  const source = `
    const { DynamoDBClient, CreateTableCommand, ListTablesCommand } = require("@aws-sdk/client-dynamodb");
    const ddb = new DynamoDBClient({});
    exports.handler = async (event) => {
      await ddb.send(new CreateTableCommand({ TableName: event.table, BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }] }));
      const out = await ddb.send(new ListTablesCommand({}));
      console.log("tables", out.TableNames.length);
      return out.TableNames;
    };`;
  await client.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: "nodejs20.x", Role: "arn:aws:iam::000000000000:role/r",
    Handler: "index.handler", Code: { ZipFile: zip(source) }, Timeout: 20, MemorySize: 256,
  }));
  const got = await client.send(new GetFunctionCommand({ FunctionName: name }));
  assert.equal(got.Configuration.Runtime, "nodejs20.x");
  const table = `t-${Date.now()}`;
  const r = await client.send(new InvokeCommand({
    FunctionName: name, Payload: Buffer.from(JSON.stringify({ table })), LogType: "Tail",
  }));
  assert.equal(r.StatusCode, 200);
  assert.equal(r.FunctionError, undefined, Buffer.from(r.Payload).toString());
  assert.ok(JSON.parse(Buffer.from(r.Payload).toString()).includes(table));
  assert.match(Buffer.from(r.LogResult, "base64").toString(), /\tINFO\ttables \d+/);
});

test("unknown function", async () => {
  await assert.rejects(client.send(new InvokeCommand({ FunctionName: "nope-nope" })), ResourceNotFoundException);
});

test("aws-lambda-ric, AWS's runtime interface client, runs unmodified as a provided.al2023 bootstrap", async () => {
  const ricDir = join(dirname(fileURLToPath(import.meta.url)), "node_modules", "aws-lambda-ric");
  const name = `ric-${Date.now()}`;
  const handler = `
    let calls = 0;
    export const handler = async (event, context) => {
      calls += 1;
      if (event.fail) throw new RangeError("ric says no");
      console.log("ric log", event.n);
      return { calls, n: event.n, fn: context.functionName, id: context.awsRequestId,
               arn: context.invokedFunctionArn, remaining: context.getRemainingTimeInMillis() };
    };`;
  // The documented way to use the RIC in a custom runtime: the bootstrap execs it with the
  // handler name (_HANDLER); the package lives outside the zip (RIC_DIR), unchanged.
  const bootstrap = '#!/bin/sh\nexec node "$RIC_DIR/index.mjs" "$_HANDLER"\n';
  await client.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: "provided.al2023", Role: "arn:aws:iam::000000000000:role/r",
    Handler: "index.handler", Code: { ZipFile: zipFiles({ "bootstrap": [bootstrap, 0o755], "index.mjs": [handler, 0o644] }) },
    Environment: { Variables: { RIC_DIR: ricDir } }, Timeout: 10,
  }));
  const call = async (event) => {
    const r = await client.send(new InvokeCommand({
      FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), LogType: "Tail",
    }));
    return { r, body: JSON.parse(Buffer.from(r.Payload).toString()), log: Buffer.from(r.LogResult, "base64").toString() };
  };
  const first = await call({ n: 1 });
  assert.equal(first.r.FunctionError, undefined, JSON.stringify(first.body));
  assert.equal(first.body.calls, 1);
  assert.equal(first.body.n, 1);
  assert.equal(first.body.fn, name);
  assert.equal(first.body.arn, `arn:aws:lambda:us-east-1:000000000000:function:${name}`);
  assert.match(first.body.id, /^[0-9a-f-]{36}$/);
  assert.ok(first.body.remaining > 0 && first.body.remaining <= 10000, String(first.body.remaining));
  // The RIC's own log format, through stratus's log capture; Init Duration on the cold start.
  assert.match(first.log, new RegExp(`\\t${first.body.id}\\tINFO\\tric log 1`));
  assert.match(first.log, /REPORT RequestId: .*Init Duration: /);
  const second = await call({ n: 2 });
  assert.equal(second.body.calls, 2);  // warm: the same RIC process
  assert.doesNotMatch(second.log, /Init Duration/);
  // Errors as the RIC reports them to /invocation/{id}/error.
  const failed = await call({ fail: true });
  assert.equal(failed.r.FunctionError, "Unhandled");
  assert.equal(failed.body.errorType, "RangeError");
  assert.equal(failed.body.errorMessage, "ric says no");
  assert.ok(Array.isArray(failed.body.trace));
  const after = await call({ n: 3 });
  assert.equal(after.body.calls, 4);  // a handler error does not end the sandbox
});
