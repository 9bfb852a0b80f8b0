// Triggers through the AWS SDK for JavaScript v3: a DynamoDB stream mapped to a function
// (CreateEventSourceMappingCommand), an S3 upload and a schedule fired on demand each invoke a
// node handler that records what it receives in a DynamoDB table with the SDK the runtime
// provides (AWS_ENDPOINT_URL points it at stratus); the test reads the table back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DynamoDBClient, CreateTableCommand, PutItemCommand, ScanCommand,
} from "@aws-sdk/client-dynamodb";
import {
  LambdaClient, CreateFunctionCommand, CreateEventSourceMappingCommand, GetEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
} from "@aws-sdk/client-lambda";
import { S3Client, CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startDaemon } from "./daemon.mjs";

let daemon, ddb, lambda, s3, dir;
const credentials = { accessKeyId: "test", secretAccessKey: "test" };

before(async () => {
  daemon = await startDaemon("--enable-test-api");
  const cfg = { endpoint: daemon.endpoint, region: "us-east-1", credentials };
  ddb = new DynamoDBClient(cfg);
  lambda = new LambdaClient(cfg);
  s3 = new S3Client({ ...cfg, forcePathStyle: true });
  dir = mkdtempSync(join(tmpdir(), "stratus-js-trig-"));
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

async function table(name, stream) {
  const out = await ddb.send(new CreateTableCommand({
    TableName: name, BillingMode: "PAY_PER_REQUEST",
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    ...(stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream } } : {}),
  }));
  return out.TableDescription.LatestStreamArn;
}

// A function that stores each event it receives as an item of `sink`.
async function recorder(sink) {
  const name = `js-rec-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const source = `
    const { DynamoDBClient, PutItemCommand } = require("@aws-sdk/client-dynamodb");
    const ddb = new DynamoDBClient({});
    exports.handler = async (event, context) => {
      await ddb.send(new PutItemCommand({ TableName: ${JSON.stringify(sink)},
        Item: { pk: { S: context.awsRequestId }, event: { S: JSON.stringify(event) }, at: { N: String(Date.now()) } } }));
    };`;
  await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: "nodejs20.x", Role: "arn:aws:iam::000000000000:role/r",
    Handler: "index.handler", Code: { ZipFile: zip(source) }, Timeout: 10,
  }));
  return name;
}

async function events(sink, atLeast) {
  const deadline = Date.now() + 20000;
  for (;;) {
    const items = (await ddb.send(new ScanCommand({ TableName: sink }))).Items;
    if (items.length >= atLeast || Date.now() > deadline) {
      return items.sort((a, b) => Number(a.at.N) - Number(b.at.N)).map((i) => JSON.parse(i.event.S));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a DynamoDB stream mapped to a function delivers every change in order", async () => {
  const sink = `sink-${Date.now()}`;
  await table(sink);
  const source = `src-${Date.now()}`;
  const arn = await table(source, "NEW_AND_OLD_IMAGES");
  const fn = await recorder(sink);
  const m = await lambda.send(new CreateEventSourceMappingCommand({
    FunctionName: fn, EventSourceArn: arn, StartingPosition: "TRIM_HORIZON", BatchSize: 2,
  }));
  assert.equal(m.State, "Creating");
  assert.equal((await lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }))).State, "Enabled");
  for (let i = 0; i < 5; i++) {
    await ddb.send(new PutItemCommand({ TableName: source, Item: { pk: { S: "k" }, v: { N: String(i) } } }));
  }
  const got = (await events(sink, 3)).flatMap((e) => e.Records);
  assert.deepEqual(got.map((r) => r.dynamodb.NewImage.v.N), ["0", "1", "2", "3", "4"]);
  assert.deepEqual(got.map((r) => r.eventName), ["INSERT", "MODIFY", "MODIFY", "MODIFY", "MODIFY"]);
  assert.equal(got[1].dynamodb.OldImage.v.N, "0");
  assert.equal(got[0].eventSourceARN, arn);
  const del = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID }));
  assert.equal(del.State, "Deleting");
});

test("an S3 upload invokes the bucket's notification function", async () => {
  const sink = `s3sink-${Date.now()}`;
  await table(sink);
  const fn = await recorder(sink);
  const bucket = `js-trig-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketNotificationConfigurationCommand({
    Bucket: bucket,
    NotificationConfiguration: {
      LambdaFunctionConfigurations: [{
        LambdaFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${fn}`,
        Events: ["s3:ObjectCreated:*"],
        Filter: { Key: { FilterRules: [{ Name: "suffix", Value: ".png" }] } },
      }],
    },
  }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "img/a.png", Body: "png" }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "img/a.txt", Body: "txt" }));
  const got = await events(sink, 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await events(sink, 1)).length, 1);
  const rec = got[0].Records[0];
  assert.equal(rec.eventName, "ObjectCreated:Put");
  assert.equal(rec.s3.bucket.name, bucket);
  assert.equal(rec.s3.object.key, "img/a.png");
  assert.equal(rec.s3.object.size, 3);
});

test("a schedule fired on demand sends its input", async () => {
  const sink = `schedsink-${Date.now()}`;
  await table(sink);
  const fn = await recorder(sink);
  const name = `js-rule-${Date.now()}`;
  let r = await fetch(`${daemon.endpoint}/_stratus/test/lambda/schedule`, {
    method: "POST",
    body: JSON.stringify({ name, function: fn, expression: "cron(0 8 ? * MON-FRI *)", input_path: "$.detail-type" }),
  });
  assert.equal(r.status, 200);
  r = await fetch(`${daemon.endpoint}/_stratus/schedules/${name}/run`, { method: "POST" });
  assert.equal(r.status, 200);
  const got = await events(sink, 1);
  assert.deepEqual(got, ["Scheduled Event"]);
});
