// Browser form uploads (POST Object) as an SPA does them: a policy from
// @aws-sdk/s3-presigned-post's createPresignedPost, the file sent with fetch and FormData,
// under --verify-signatures. Also the quick fixes of issue 15 an SPA meets first: CORS
// headers on error answers, and CreateBucket's us-east-1 answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  S3Client, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand, PutObjectCommand,
  DeletePublicAccessBlockCommand, PutBucketPolicyCommand, GetBucketPolicyStatusCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { startDaemon } from "./daemon.mjs";

let daemon, s3;
const bucket = `jspost-${Date.now()}`;
const credentials = { accessKeyId: "AKIDJSPOST", secretAccessKey: "js-post-secret" };

before(async () => {
  daemon = await startDaemon("--verify-signatures", "--access-key-id", "AKIDJSPOST", "--secret-access-key",
    "js-post-secret");
  s3 = new S3Client({ endpoint: daemon.endpoint, region: "us-east-1", forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketCorsCommand({
    Bucket: bucket,
    CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["http://spa.test"], AllowedMethods: ["POST", "GET"] }] },
  }));
});

after(async () => {
  s3?.destroy();
  await daemon?.stop();
});

function form(fields, blob, filename) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append("file", blob, filename);
  return f;
}

test("createPresignedPost + fetch uploads a file, ${filename} and conditions applied", async () => {
  const { url, fields } = await createPresignedPost(s3, {
    Bucket: bucket, Key: "avatars/${filename}", Expires: 60,
    Fields: { "Content-Type": "image/png", success_action_status: "201" },
    Conditions: [["content-length-range", 1, 1024], ["starts-with", "$key", "avatars/"],
      { "Content-Type": "image/png" }, { success_action_status: "201" }],
  });
  const res = await fetch(url, {
    method: "POST", headers: { Origin: "http://spa.test" },
    body: form(fields, new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" }), "me.png"),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  assert.match(text, /<Key>avatars\/me.png<\/Key>/);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://spa.test");
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "avatars/me.png" }));
  assert.equal(head.ContentType, "image/png");
  assert.equal(head.ContentLength, 4);
});

test("a file over content-length-range is EntityTooLarge, with CORS headers on the error", async () => {
  const { url, fields } = await createPresignedPost(s3, {
    Bucket: bucket, Key: "small.bin", Conditions: [["content-length-range", 0, 10]],
  });
  const res = await fetch(url, {
    method: "POST", headers: { Origin: "http://spa.test" }, body: form(fields, new Blob(["x".repeat(11)]), "s.bin"),
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /<Code>EntityTooLarge<\/Code>/);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://spa.test");
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "small.bin" })), { name: "NoSuchKey" });
});

test("a policy signed with another secret is SignatureDoesNotMatch", async () => {
  const other = new S3Client({ endpoint: daemon.endpoint, region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: "AKIDJSPOST", secretAccessKey: "wrong" } });
  const { url, fields } = await createPresignedPost(other, { Bucket: bucket, Key: "x.bin" });
  other.destroy();
  const res = await fetch(url, { method: "POST", body: form(fields, new Blob(["x"]), "x.bin") });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
});

test("CreateBucket of a bucket already owned: 200 in us-east-1", async () => {
  const again = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  assert.equal(again.$metadata.httpStatusCode, 200);
});

test("an unsigned client reads what the bucket policy makes public, and nothing else", async () => {
  // Issue 15: under --verify-signatures an unsigned request gets what the bucket's policy
  // and ACLs grant the public. New buckets block public policies (AWS's default since
  // April 2023): the block is lifted first, as on AWS.
  const open = `${bucket}-open`;
  await s3.send(new CreateBucketCommand({ Bucket: open }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: open }));
  await s3.send(new PutBucketPolicyCommand({
    Bucket: open,
    Policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${open}/public/*` }],
    }),
  }));
  assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: open }))).PolicyStatus.IsPublic, true);
  await s3.send(new PutObjectCommand({ Bucket: open, Key: "public/a.txt", Body: "hello" }));
  await s3.send(new PutObjectCommand({ Bucket: open, Key: "private/b.txt", Body: "secret" }));
  const anonymous = new S3Client({
    endpoint: daemon.endpoint, region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: "unused", secretAccessKey: "unused" }, signer: { sign: async (request) => request },
  });
  try {
    const got = await anonymous.send(new GetObjectCommand({ Bucket: open, Key: "public/a.txt" }));
    assert.equal(await got.Body.transformToString(), "hello");
    await assert.rejects(anonymous.send(new GetObjectCommand({ Bucket: open, Key: "private/b.txt" })),
      (e) => e.name === "AccessDenied" && e.$metadata.httpStatusCode === 403);
    await assert.rejects(anonymous.send(new PutObjectCommand({ Bucket: open, Key: "public/c.txt", Body: "x" })),
      (e) => e.name === "AccessDenied");
  } finally {
    anonymous.destroy();
  }
});
