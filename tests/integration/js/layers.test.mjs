// Lambda layers through the AWS SDK for JavaScript v3: a layer published from a zip, a node
// function requiring a package only that layer provides.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LambdaClient, PublishLayerVersionCommand, ListLayerVersionsCommand, CreateFunctionCommand, InvokeCommand,
} from "@aws-sdk/client-lambda";
import { startDaemon } from "./daemon.mjs";

let daemon, client, dir;

before(async () => {
  daemon = await startDaemon();
  client = new LambdaClient({
    endpoint: daemon.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  dir = mkdtempSync(join(tmpdir(), "stratus-js-layers-"));
});

after(async () => {
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a node function requires a package from its layer", async () => {
  mkdirSync(join(dir, "layer/nodejs/node_modules/shout"), { recursive: true });
  writeFileSync(join(dir, "layer/nodejs/node_modules/shout/index.js"), "module.exports = (s) => s.toUpperCase() + '!';");
  execFileSync("zip", ["-q", "-r", join(dir, "layer.zip"), "nodejs"], { cwd: join(dir, "layer") });
  const name = `shout${Date.now()}`;
  const layer = await client.send(new PublishLayerVersionCommand({
    LayerName: name, Content: { ZipFile: readFileSync(join(dir, "layer.zip")) }, CompatibleRuntimes: ["nodejs20.x"],
  }));
  assert.equal(layer.Version, 1);
  const versions = await client.send(new ListLayerVersionsCommand({ LayerName: name }));
  assert.deepEqual(versions.LayerVersions.map((v) => v.LayerVersionArn), [layer.LayerVersionArn]);
  writeFileSync(join(dir, "index.js"), "exports.handler = async (e) => require('shout')(e.say);");
  execFileSync("zip", ["-q", "-j", join(dir, "fn.zip"), join(dir, "index.js")]);
  await client.send(new CreateFunctionCommand({
    FunctionName: `uses-${name}`, Runtime: "nodejs20.x", Role: "arn:aws:iam::000000000000:role/r",
    Handler: "index.handler", Code: { ZipFile: readFileSync(join(dir, "fn.zip")) }, Layers: [layer.LayerVersionArn],
  }));
  const out = await client.send(new InvokeCommand({ FunctionName: `uses-${name}`, Payload: JSON.stringify({ say: "hi" }) }));
  assert.equal(out.FunctionError, undefined);
  assert.equal(JSON.parse(Buffer.from(out.Payload).toString()), "HI!");
});
