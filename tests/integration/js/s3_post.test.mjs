// Browser form uploads (POST Object) as an SPA does them: a policy from
// @aws-sdk/s3-presigned-post's createPresignedPost, the file sent with fetch and FormData,
// under --verify-signatures. Also the quick fixes of issue 15 an SPA meets first: CORS
// headers on error answers, and CreateBucket's us-east-1 answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  S3Client, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand,
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
