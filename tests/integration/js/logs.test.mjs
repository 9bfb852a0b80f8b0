// CloudWatch Logs through the AWS SDK for JavaScript v3 (client-cloudwatch-logs): a group of
// our own written with PutLogEvents and read back with GetLogEvents / FilterLogEvents (and
// the SDK's paginator), and a function's logs as /aws/lambda/NAME.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand, GetLogEventsCommand,
  FilterLogEventsCommand, DescribeLogStreamsCommand, ResourceNotFoundException, paginateFilterLogEvents,
} from "@aws-sdk/client-cloudwatch-logs";
import { LambdaClient, CreateFunctionCommand, InvokeCommand } from "@aws-sdk/client-lambda";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "./daemon.mjs";

let daemon, logs, lambda;
const config = () => ({
  endpoint: daemon.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

before(async () => {
  daemon = await startDaemon();
  logs = new CloudWatchLogsClient(config());
  lambda = new LambdaClient(config());
});

after(async () => {
  await daemon.stop();
});

test("PutLogEvents, GetLogEvents and FilterLogEvents on a group of our own", async () => {
  const group = `js/${Date.now()}`;
  await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: "s" }));
  const t = Date.now();
  const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ level: i % 5 === 0 ? "error" : "info", i }));
  await logs.send(new PutLogEventsCommand({
    logGroupName: group, logStreamName: "s", logEvents: lines.map((message, i) => ({ timestamp: t + i, message })),
  }));
  const got = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: "s", startFromHead: true }));
  assert.deepEqual(got.events.map((e) => e.message), lines);
  assert.match(got.nextForwardToken, /^f\//);
  // The paginator, two events per page.
  const errors = [];
  for await (const page of paginateFilterLogEvents({ client: logs, pageSize: 2 },
    { logGroupName: group, filterPattern: '{ $.level = "error" && $.i >= 5 }' })) {
    errors.push(...page.events.map((e) => JSON.parse(e.message).i));
  }
  assert.deepEqual(errors, [5, 10, 15, 20]);
  await assert.rejects(logs.send(new FilterLogEventsCommand({ logGroupName: `${group}-nope` })), ResourceNotFoundException);
});

test("a function's logs are /aws/lambda/NAME, one stream per sandbox", async () => {
  const dir = mkdtempSync(join(tmpdir(), "stratus-js-logs-"));
  try {
    writeFileSync(join(dir, "index.js"), "exports.handler = async (e) => { console.log('js-logs says', e.n); return e.n; };");
    execFileSync("zip", ["-q", "-j", join(dir, "f.zip"), join(dir, "index.js")]);
    const name = `jslogs-${Date.now()}`;
    await lambda.send(new CreateFunctionCommand({
      FunctionName: name, Runtime: "nodejs20.x", Role: "arn:aws:iam::000000000000:role/r", Handler: "index.handler",
      Code: { ZipFile: readFileSync(join(dir, "f.zip")) },
    }));
    await lambda.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify({ n: 7 }) }));
    const group = `/aws/lambda/${name}`;
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }));
    assert.equal(streams.logStreams.length, 1);
    assert.match(streams.logStreams[0].logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    const hits = await logs.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: '"js-logs says"' }));
    assert.equal(hits.events.length, 1);
    assert.match(hits.events[0].message, /js-logs says 7/);
    assert.equal(hits.events[0].logStreamName, streams.logStreams[0].logStreamName);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
