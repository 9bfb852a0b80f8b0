// Lambda versions, aliases and function URLs through the AWS SDK for JavaScript v3:
// PublishVersion, an alias invoked by its qualified name, a function URL called with fetch,
// and InvokeWithResponseStream read as the SDK's async iterable of events.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LambdaClient, CreateFunctionCommand, InvokeCommand, PublishVersionCommand, CreateAliasCommand,
  ListVersionsByFunctionCommand, GetAliasCommand, UpdateFunctionCodeCommand, CreateFunctionUrlConfigCommand,
  InvokeWithResponseStreamCommand,
} from "@aws-sdk/client-lambda";
import { startDaemon } from "./daemon.mjs";

let daemon, client, dir;
const ARN = "arn:aws:lambda:us-east-1:000000000000:function:";

before(async () => {
  daemon = await startDaemon();
  client = new LambdaClient({
    endpoint: daemon.endpoint, region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  dir = mkdtempSync(join(tmpdir(), "stratus-js-versions-"));
});

after(async () => {
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
});

function zip(source) {
  writeFileSync(join(dir, "index.mjs"), source);
  execFileSync("zip", ["-q", "-j", join(dir, "f.zip"), join(dir, "index.mjs")]);
  const bytes = readFileSync(join(dir, "f.zip"));
  rmSync(join(dir, "f.zip"));
  return bytes;
}

const tagged = (tag) => zip(`export const handler = async (event, context) =>
  ({ tag: ${JSON.stringify(tag)}, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, arn: context.invokedFunctionArn });`);

async function create(name, code) {
  await client.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: "nodejs20.x", Role: "arn:aws:iam::000000000000:role/r",
    Handler: "index.handler", Code: { ZipFile: code },
  }));
}

async function invoke(params) {
  const r = await client.send(new InvokeCommand({ Payload: Buffer.from("{}"), ...params }));
  return [r, JSON.parse(Buffer.from(r.Payload).toString())];
}

test("a published version keeps its code; an alias invokes it", async () => {
  const name = `jsv-${Date.now()}`;
  await create(name, tagged("one"));
  const v1 = await client.send(new PublishVersionCommand({ FunctionName: name }));
  assert.equal(v1.Version, "1");
  assert.equal(v1.FunctionArn, `${ARN}${name}:1`);
  await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: tagged("two") }));
  await client.send(new CreateAliasCommand({ FunctionName: name, Name: "live", FunctionVersion: "1" }));
  const alias = await client.send(new GetAliasCommand({ FunctionName: name, Name: "live" }));
  assert.equal(alias.AliasArn, `${ARN}${name}:live`);

  const [r1, out1] = await invoke({ FunctionName: `${name}:live` });
  assert.deepEqual(out1, { tag: "one", version: "1", arn: `${ARN}${name}:live` });
  assert.equal(r1.ExecutedVersion, "1");
  const [, latest] = await invoke({ FunctionName: name });
  assert.deepEqual(latest, { tag: "two", version: "$LATEST", arn: `${ARN}${name}` });
  const versions = await client.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
  assert.deepEqual(versions.Versions.map((v) => v.Version), ["$LATEST", "1"]);
});

test("a function URL answers fetch; InvokeWithResponseStream streams a streamified handler", async () => {
  const name = `jsu-${Date.now()}`;
  await create(name, zip(`export const handler = awslambda.streamifyResponse(async (event, stream) => {
    if (event.rawPath !== undefined) {
      stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { "content-type": "text/plain" } });
    }
    stream.write("a");
    await new Promise((r) => setTimeout(r, 20));
    stream.end("b");
  });`));
  const cfg = await client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" }));
  const res = await fetch(cfg.FunctionUrl + "x?y=1");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(await res.text(), "ab");

  const out = await client.send(new InvokeWithResponseStreamCommand({ FunctionName: name, Payload: Buffer.from("{}") }));
  const pieces = [];
  let complete;
  for await (const ev of out.EventStream) {
    if (ev.PayloadChunk) pieces.push(Buffer.from(ev.PayloadChunk.Payload).toString());
    if (ev.InvokeComplete) complete = ev.InvokeComplete;
  }
  assert.deepEqual(pieces, ["a", "b"]);
  assert.ok(complete && !complete.ErrorCode);
});
