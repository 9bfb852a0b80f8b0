// S3 through the AWS SDK for JavaScript v3, unmodified but for the endpoint (and
// forcePathStyle, as with any local S3): client-s3 with its default checksums (CRC32 in
// aws-chunked bodies with a trailer), lib-storage's multipart Upload, and presigned URLs
// from s3-request-presigner, also under --verify-signatures.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  DeleteObjectsCommand, CopyObjectCommand, NoSuchKey, paginateListObjectsV2, PutBucketCorsCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startDaemon } from "./daemon.mjs";

let daemon, s3, strict, strictS3;
const bucket = `js-${Date.now()}`;
const credentials = { accessKeyId: "AKIDJS", secretAccessKey: "js-secret" };

before(async () => {
  daemon = await startDaemon();
  s3 = new S3Client({ endpoint: daemon.endpoint, region: "us-east-1", forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  strict = await startDaemon("--verify-signatures", "--access-key-id", "AKIDJS", "--secret-access-key", "js-secret");
  strictS3 = new S3Client({ endpoint: strict.endpoint, region: "us-east-1", forcePathStyle: true, credentials });
  await strictS3.send(new CreateBucketCommand({ Bucket: bucket }));
});

after(async () => {
  s3?.destroy();
  strictS3?.destroy();
  await daemon?.stop();
  await strict?.stop();
});

test("PutObject / GetObject round trip with metadata and default checksums", async () => {
  const body = randomBytes(20000);
  const put = await s3.send(new PutObjectCommand({
    Bucket: bucket, Key: "dir/file.bin", Body: body, ContentType: "application/x-test", Metadata: { owner: "js" },
  }));
  assert.equal(put.ETag, `"${createHash("md5").update(body).digest("hex")}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "dir/file.bin", ChecksumMode: "ENABLED" }));
  assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), body);
  assert.equal(got.ContentType, "application/x-test");
  assert.deepEqual(got.Metadata, { owner: "js" });
  assert.ok(got.ChecksumCRC32, "the stored CRC32 comes back");
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "dir/file.bin" }));
  assert.equal(head.ContentLength, 20000);
});

test("string bodies, ranges and missing keys", async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "text.txt", Body: "hello from js" }));
  const part = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "text.txt", Range: "bytes=6-9" }));
  assert.equal(await part.Body.transformToString(), "from");
  assert.equal(part.ContentRange, "bytes 6-9/13");
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "nope" })), NoSuchKey);
});

test("lib-storage Upload sends a multipart upload", async () => {
  const body = randomBytes(12 * 1024 * 1024);
  const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: "big/upload.bin", Body: body }, partSize: 5 * 1024 * 1024 });
  const done = await upload.done();
  assert.match(done.ETag, /-3"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big/upload.bin" }));
  const back = Buffer.from(await got.Body.transformToByteArray());
  assert.equal(back.length, body.length);
  assert.ok(back.equals(body));
});

test("listing, copy and batch delete", async () => {
  for (let i = 0; i < 25; i++) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `many/${i}`, Body: "x" }));
  const keys = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 10 }, { Bucket: bucket, Prefix: "many/" }))
    for (const o of page.Contents ?? []) keys.push(o.Key);
  assert.equal(keys.length, 25);
  await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "many-copy", CopySource: `${bucket}/many/1` }));
  const del = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  assert.equal(del.Deleted.length, 25);
  const rest = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "many/" }));
  assert.equal(rest.KeyCount, 0);
});

// encoding-type=url: S3 form-encodes keys (space as '+', '+' as %2B), which botocore undoes
// with unquote_plus and the Go SDK with QueryUnescape; the JS SDK hands the text through, so
// an app decodes it the same way. (Issue 15's text says '%20'; the clients' decoders and
// MinIO's s3URLEncode, written to match S3, say '+'.)
test("encoding-type=url listings round-trip keys with spaces and plus signs", async () => {
  const keys = ["enc/a b+c.txt", "enc/d+e f/g h", "enc/100%+ é"];
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: "x" }));
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "enc/", EncodingType: "url" }));
  assert.equal(r.EncodingType, "url");
  const raw = r.Contents.map((o) => o.Key);
  assert.deepEqual(raw, ["enc/100%25%2B+%C3%A9", "enc/a+b%2Bc.txt", "enc/d%2Be+f/g+h"]);
  const formDecode = (k) => decodeURIComponent(k.replace(/\+/g, " "));
  assert.deepEqual(raw.map(formDecode), [...keys].sort());
  const plain = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "enc/" }));
  assert.deepEqual(plain.Contents.map((o) => o.Key), [...keys].sort());
});

test("signed requests and presigned URLs under --verify-signatures", async () => {
  await strictS3.send(new PutObjectCommand({ Bucket: bucket, Key: "signed.txt", Body: "signed body" }));
  const url = await getSignedUrl(strictS3, new GetObjectCommand({ Bucket: bucket, Key: "signed.txt" }), { expiresIn: 60 });
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "signed body");
  const putUrl = await getSignedUrl(strictS3, new PutObjectCommand({ Bucket: bucket, Key: "browser.txt" }), { expiresIn: 60 });
  const put = await fetch(putUrl, { method: "PUT", body: "from a browser" });
  assert.equal(put.status, 200);
  const got = await strictS3.send(new GetObjectCommand({ Bucket: bucket, Key: "browser.txt" }));
  assert.equal(await got.Body.transformToString(), "from a browser");
  const tampered = url.replace("signed.txt", "other.txt");
  const bad = await fetch(tampered);
  assert.equal(bad.status, 403);
  assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  const wrong = new S3Client({ endpoint: strict.endpoint, region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: "AKIDJS", secretAccessKey: "wrong" } });
  await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: bucket, Key: "signed.txt" })),
    (e) => e.name === "SignatureDoesNotMatch");
  wrong.destroy();
});

test("browser-style CORS preflight for a presigned PUT", async () => {
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [
    { AllowedOrigins: ["http://localhost:5173"], AllowedMethods: ["PUT"], AllowedHeaders: ["*"] }] } }));
  const res = await fetch(`${daemon.endpoint}/${bucket}/upload.txt`, { method: "OPTIONS", headers: {
    Origin: "http://localhost:5173", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
});
