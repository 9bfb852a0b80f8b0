// Lambda through the AWS SDK for JavaScript v3 client-lambda: a function created from a
// zip, invoked with a log tail; its handler itself uses the AWS SDK (not bundled: the
// runtime provides it) to reach DynamoDB in the same stratus through AWS_ENDPOINT_URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
